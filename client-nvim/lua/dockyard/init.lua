--- dockyard.nvim: drive Dockyard task containers from Neovim through the built-in LSP client.
---
---   require('dockyard').setup({ cmd = { 'dockyard', 'serve', '--stdio' }, root_dir = '~/src/project' })
---
--- Everything is reachable as `:Dockyard <subcommand>` (lua/dockyard/commands.lua) and as the functions
--- below. Requests go through client.lua; notifications are handled in handlers.lua.
local client = require('dockyard.client')
local config = require('dockyard.config')
local output = require('dockyard.output')
local state = require('dockyard.state')
local util = require('dockyard.util')

local M = {}

local ensured = false

--- One-time wiring that does not need setup() (autocommands for terminal sizes).
function M.ensure()
  if not ensured then
    ensured = true
    require('dockyard.terminal').setup_autocmds()
  end
end

--- Configure (see lua/dockyard/config.lua and docs/neovim.md). Optional: defaults work without it.
function M.setup(opts)
  config.set(opts)
  M.ensure()
  if config.options.autostart then
    client.start()
  end
end

--- Start / stop the daemon of this Neovim instance.
M.start = client.start
M.stop = client.stop

--- request(method, params, on_result, on_error?) — async; errors are vim.notify'd unless on_error.
M.request = client.request
--- request_sync(method, params, timeout_ms?) -> result, err
M.request_sync = client.request_sync
--- supports('dockyard/checkpointTask') -> bool (from the daemon's features list; false before it started)
M.supports = client.supports

--- The statusline component, e.g. '⚓ 2▶ 1⏸ 0✗'. Use it in 'statusline' or a statusline plugin.
function M.statusline()
  return state.statusline()
end

--- Cached tasks (kept current by dockyard/taskChanged), oldest first.
function M.tasks()
  return state.list()
end

--- Create a task; on_done(task) after the daemon answered (the task is running by then).
function M.create_task(params, on_done)
  client.request('dockyard/createTask', params, function(task)
    state.upsert(task)
    require('dockyard.ui').refresh()
    util.notify(string.format('%s %s (%s)', task.id, task.state, task.title))
    if on_done then
      on_done(task)
    end
  end)
end

local exec_count = 0

--- Run `command` (a shell string, or an argv list) in a task; its output streams into the task's
--- output buffer. opts: timeoutS, cwd, env, on_done(result).
function M.exec(task_id, command, opts)
  opts = opts or {}
  exec_count = exec_count + 1
  local exec_id = string.format('nv-%x-%d', (vim.uv or vim.loop).hrtime(), exec_count)
  local shown = type(command) == 'table' and table.concat(command, ' ') or command
  output.begin(task_id, exec_id, shown)
  local params = {
    taskId = task_id,
    command = command,
    execId = exec_id,
    timeoutS = opts.timeoutS,
    cwd = opts.cwd,
    env = opts.env,
  }
  client.request('dockyard/exec', params, function(result)
    if result.timedOut then
      output.note(task_id, 'timed out')
    elseif result.cancelled then
      output.note(task_id, 'cancelled')
    end
    if opts.on_done then
      opts.on_done(result)
    end
  end, function(err)
    output.note(task_id, 'error: ' .. util.error_text(err))
    util.report(err)
  end)
  return exec_id
end

--- The output buffer of a task (created if needed).
M.output_buffer = output.buffer

--- Open an interactive session in a terminal buffer; returns the buffer.
function M.open_terminal(task_id, command)
  M.ensure()
  return require('dockyard.terminal').open(task_id, command)
end

return M
