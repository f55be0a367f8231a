--- Per-task output buffers `dockyard://output/<taskId>`, fed by dockyard/output and dockyard/execExited.
---
--- Output of every exec in a task lands here, also execs started by other clients (CLI, another
--- editor): the daemon sends notifications to every client. Chunks need not end at a line break, so the
--- buffer remembers, per stream, which line is still open. stderr lines are highlighted as errors.
local config = require('dockyard.config')
local util = require('dockyard.util')

local M = {
  open_rows = {}, -- buf -> { stdout = row, stderr = row }: 0-based rows still awaiting the rest of a line
  fresh = {}, -- buf -> true while the buffer holds nothing yet (its one empty line gets replaced)
  exec_task = {}, -- execId -> taskId (ours from the start, others' from their first output)
}

local ns = vim.api.nvim_create_namespace('dockyard_output')

--- The output buffer of `task_id` (created on first use).
function M.buffer(task_id)
  local buf, created = util.scratch('dockyard://output/' .. task_id, 'dockyardoutput')
  if created then
    vim.b[buf].dockyard_task = task_id
    M.fresh[buf] = true
  end
  return buf
end

local function scroll(buf)
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(util.windows_of(buf)) do
    vim.api.nvim_win_set_cursor(win, { last, 0 })
  end
end

--- Append `text` to the task's buffer. `stream` ('stdout'/'stderr') continues that stream's open last
--- line, even when the other stream wrote lines since; nil (our own lines) always starts a new line.
--- `hl` highlights the lines written.
function M.append(task_id, text, stream, hl)
  local buf = M.buffer(task_id)
  local open = M.open_rows[buf] or {}
  M.open_rows[buf] = open
  local clean = text:gsub('\r\n', '\n'):gsub('\r', '')
  local lines = vim.split(clean, '\n', { plain = true })
  local ends_open = lines[#lines] ~= ''
  if not ends_open then
    table.remove(lines)
  end
  local touched = {}
  vim.bo[buf].modifiable = true
  local row = stream and open[stream]
  if row and #lines > 0 then
    local current = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
    vim.api.nvim_buf_set_lines(buf, row, row + 1, false, { current .. table.remove(lines, 1) })
    table.insert(touched, row)
    if #lines == 0 and not ends_open then
      open[stream] = nil
    end
  end
  if #lines > 0 then
    local fresh = M.fresh[buf]
    local first = fresh and 0 or vim.api.nvim_buf_line_count(buf)
    vim.api.nvim_buf_set_lines(buf, fresh and 0 or -1, -1, false, lines)
    M.fresh[buf] = nil
    for r = first, first + #lines - 1 do
      table.insert(touched, r)
    end
    if stream then
      open[stream] = ends_open and (first + #lines - 1) or nil
    end
  end
  vim.bo[buf].modifiable = false
  if hl then
    for _, r in ipairs(touched) do
      vim.api.nvim_buf_add_highlight(buf, ns, hl, r, 0, -1)
    end
  end
  scroll(buf)
end

--- Start an exec's section: a '$ command' header (the exec's output follows it).
function M.begin(task_id, exec_id, command)
  M.exec_task[exec_id] = task_id
  local buf = M.buffer(task_id)
  M.open_rows[buf] = {} -- a new section: earlier open lines stay as they are
  M.append(task_id, string.format('$ %s    [%s]\n', command, exec_id), nil, 'Comment')
  util.show(buf, config.options.open_output)
  scroll(buf)
end

--- dockyard/output {taskId, execId, stream, data, seq}
function M.on_output(p)
  M.exec_task[p.execId] = p.taskId
  M.append(p.taskId, p.data, p.stream, p.stream == 'stderr' and 'ErrorMsg' or nil)
end

--- dockyard/execExited {execId, exitCode}
function M.on_exited(p)
  local task_id = M.exec_task[p.execId]
  if not task_id then
    return -- another client's exec that printed nothing: nothing to attach the line to
  end
  M.exec_task[p.execId] = nil
  M.append(task_id, string.format('[exit %d]\n', p.exitCode), nil, 'Comment')
end

--- A line of our own in the task's buffer (e.g. a timeout or an error reply).
function M.note(task_id, text)
  M.append(task_id, '[' .. text .. ']\n', nil, 'WarningMsg')
end

return M
