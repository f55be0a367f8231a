--- The daemon connection: one built-in LSP client per Neovim instance.
---
--- Neovim 0.7 starts it with vim.lsp.start_client() (+ buf_attach_client for a file buffer); 0.11+ with
--- vim.lsp.start({ attach = false }). Requests made before `initialize` has been answered are queued.
--- The initialize result carries `capabilities.experimental.dockyard = {protocolVersion, serverVersion,
--- features}`; `features` lists the dockyard/* methods this daemon implements (see M.supports).
local config = require('dockyard.config')
local state = require('dockyard.state')
local util = require('dockyard.util')

local M = {
  id = nil, -- LSP client id
  client = nil, -- the client object, once initialized
  info = nil, -- capabilities.experimental.dockyard
  features = {}, -- method -> true
  queue = {}, -- functions waiting for initialize
}

-- Neovim 0.11 made client methods `client:request(...)`; 0.7-0.10 call them as `client.request(...)`.
local method_call = vim.fn.has('nvim-0.11') == 1

local function call(client, name, ...)
  if method_call then
    return client[name](client, ...)
  end
  return client[name](...)
end

-- Run queued callbacks; one failing must not stop the others.
local function flush(queued, client)
  for _, fn in ipairs(queued) do
    local ok, err = pcall(fn, client)
    if not ok then
      util.notify(tostring(err), vim.log.levels.ERROR)
    end
  end
end

local function attachable(buf)
  return config.options.attach and vim.bo[buf].buftype == '' and vim.api.nvim_buf_get_name(buf) ~= ''
end

local function on_init(client, result)
  local caps = result and result.capabilities or {}
  M.info = caps.experimental and caps.experimental.dockyard or nil
  M.features = {}
  for _, method in ipairs(M.info and M.info.features or {}) do
    M.features[method] = true
  end
  M.client = client
  state.connection = 'ready'
  state.set_counts(nil) -- counts of an earlier daemon no longer hold
  -- Fill the task cache; dockyard/status only arrives on the next change.
  call(client, 'request', 'dockyard/listTasks', vim.empty_dict(), function(err, res)
    if not err and res then
      state.set_tasks(res.tasks or {})
      require('dockyard.ui').refresh()
    end
  end)
  local queued = M.queue
  M.queue = {}
  flush(queued, client)
end

local function on_exit(code, signal, client_id)
  if client_id and client_id ~= M.id then
    return -- an earlier daemon of ours, stopped before this one started
  end
  local queued = M.queue
  M.id, M.client, M.queue = nil, nil, {}
  state.connection = 'exited'
  vim.schedule(function()
    flush(queued, nil)
    if code ~= 0 then
      util.notify(string.format('daemon exited (code %s, signal %s)', code, signal), vim.log.levels.ERROR)
    end
    vim.cmd('redrawstatus')
  end)
end

--- Start the daemon for the configured root (no-op when running). Returns the client id or nil.
function M.start()
  if M.id then
    return M.id
  end
  local root = config.root_dir()
  local lsp_config = {
    name = 'dockyard',
    cmd = config.options.cmd,
    cmd_env = config.options.cmd_env,
    cmd_cwd = root,
    root_dir = root,
    handlers = require('dockyard.handlers').handlers(),
    on_init = on_init,
    on_exit = on_exit,
  }
  local buf = vim.api.nvim_get_current_buf()
  state.connection = 'starting'
  local id
  if vim.lsp.start and method_call then
    -- This module keeps the one client itself: never reuse another (e.g. one still shutting down).
    id = vim.lsp.start(lsp_config, { attach = false, reuse_client = function()
      return false
    end })
  else
    id = vim.lsp.start_client(lsp_config)
  end
  if not id then
    state.connection = 'exited'
    util.notify('could not start ' .. table.concat(config.options.cmd, ' '), vim.log.levels.ERROR)
    return nil
  end
  M.id = id
  if attachable(buf) then
    pcall(vim.lsp.buf_attach_client, buf, id)
  end
  return id
end

--- Ask the daemon to shut down (shutdown + exit); `force` kills it.
function M.stop(force)
  if M.id then
    vim.lsp.stop_client(M.id, force)
  end
end

--- Run fn(client) once the daemon is initialized (starting it if needed); fn(nil) if it cannot start.
function M.when_ready(fn)
  if M.client and M.id then
    return fn(M.client)
  end
  table.insert(M.queue, fn)
  if not M.start() then
    local queued = M.queue
    M.queue = {}
    flush(queued, nil)
  end
end

--- Whether the daemon implements `method` (e.g. 'dockyard/checkpointTask'), per its features list.
function M.supports(method)
  return M.features[method] == true
end

--- Send a request; on_result(result) on success, on_error(err) (default: vim.notify the daemon's message).
function M.request(method, params, on_result, on_error)
  on_error = on_error or util.report
  M.when_ready(function(client)
    if not client then
      return on_error({ message = 'the daemon is not running' })
    end
    local ok = call(client, 'request', method, params or vim.empty_dict(), function(err, result)
      if err then
        on_error(err)
      elseif on_result then
        on_result(result)
      end
    end)
    if not ok then
      on_error({ message = 'the daemon is not running' })
    end
  end)
end

--- Send a notification (no reply).
function M.notify(method, params)
  M.when_ready(function(client)
    if client then
      call(client, 'notify', method, params)
    end
  end)
end

--- Blocking request (vim.wait, so notifications keep being handled). Returns result, err.
function M.request_sync(method, params, timeout_ms)
  local done, result, err = false, nil, nil
  M.request(method, params, function(r)
    done, result = true, r
  end, function(e)
    done, err = true, e
  end)
  if not vim.wait(timeout_ms or config.options.timeout_ms, function()
    return done
  end, 10) then
    return nil, { message = method .. ' timed out' }
  end
  return result, err
end

return M
