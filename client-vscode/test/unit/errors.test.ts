import { describe, expect, it } from 'vitest';
import { describeError } from '../../src/errors';
import { dockyardCapabilities } from '../../src/protocol';

describe('daemon errors', () => {
  it('policy refusals name the field (-32015)', () => {
    expect(describeError({ code: -32015, message: 'refused by policy: options.privileged: never', data: { field: 'options.privileged' } })).toBe(
      'refused by policy: options.privileged: never (field: options.privileged)',
    );
  });

  it('invalid params list pydantic errors (-32602)', () => {
    const data = [{ type: 'string_too_short', loc: ['title'], msg: 'String should have at least 1 character' }];
    expect(describeError({ code: -32602, message: 'invalid params for dockyard/createTask', data })).toBe(
      'invalid params for dockyard/createTask: title: String should have at least 1 character',
    );
  });

  it('other codes and plain errors pass the message through', () => {
    expect(describeError({ code: -32010, message: "task 't-1' not found", data: { taskId: 't-1' } })).toBe("task 't-1' not found");
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('text')).toBe('text');
  });
});

describe('capabilities', () => {
  it('reads capabilities.experimental.dockyard, rejects anything else', () => {
    const caps = { protocolVersion: '1.0', serverVersion: '0.1.0', features: ['dockyard/exec'] };
    expect(dockyardCapabilities({ capabilities: { experimental: { dockyard: caps } } })).toEqual(caps);
    expect(dockyardCapabilities({ capabilities: {} })).toBeUndefined();
    expect(dockyardCapabilities({ capabilities: { experimental: { dockyard: { features: [1] } } } })).toBeUndefined();
  });
});
