--- Interactive sessions (dockyard/openSession) shown in terminal buffers.
---
--- The buffer is a terminal without a process (nvim_open_term): dockyard/sessionOutput is written into it
--- with nvim_chan_send, keys typed in it arrive in on_input and go to the daemon as dockyard/sessionInput.
--- The PTY follows the window size (WinResized, or WinScrolled before 0.9; VimResized and BufWinEnter).
--- Wiping the buffer closes the session.
local client = require('dockyard.client')
local config = require('dockyard.config')
local util = require('dockyard.util')

local M = {
  sessions = {}, -- sessionId -> { id, buf, chan, task, cols, rows, exited, pending, inflight, resizing }
  early = {}, -- sessionId -> output that arrived before the openSession reply
  opening = 0, -- openSession requests in flight (only then is unknown sessions' output kept)
  count = 0,
}

local function size_of(buf)
  local cols, rows
  for _, win in ipairs(util.windows_of(buf)) do
    local w, h = vim.api.nvim_win_get_width(win), vim.api.nvim_win_get_height(win)
    cols, rows = math.min(cols or w, w), math.min(rows or h, h)
  end
  return cols or vim.o.columns, rows or math.max(vim.o.lines - 4, 5)
end

--- Send resizeSession for every open session whose visible size changed.
function M.resize_all()
  for id, s in pairs(M.sessions) do
    if not s.exited and vim.api.nvim_buf_is_valid(s.buf) and #util.windows_of(s.buf) > 0 then
      local cols, rows = size_of(s.buf)
      if cols ~= s.cols or rows ~= s.rows then
        s.cols, s.rows = cols, rows
        s.resizing = (s.resizing or 0) + 1
        local function done()
          s.resizing = s.resizing - 1
        end
        client.request('dockyard/resizeSession', { sessionId = id, cols = cols, rows = rows }, done, done)
      end
    end
  end
end

-- Keys typed in terminal mode go out as sessionInput, one request in flight per session: the daemon
-- serves requests on a thread pool, so two in flight could overtake each other. What is typed meanwhile
-- is sent as one chunk when the reply comes.
local function flush_input(s)
  if s.inflight or s.exited or not s.id or (s.pending or '') == '' then
    return
  end
  local chunk = s.pending
  s.pending, s.inflight = '', true
  client.request('dockyard/sessionInput', { sessionId = s.id, data = chunk }, function()
    s.inflight = false
    flush_input(s)
  end, function(err)
    s.inflight = false
    if not s.exited then
      util.report(err)
    end
  end)
end

local function send_input(s, data)
  s.pending = (s.pending or '') .. data
  vim.schedule(function() -- on_input runs under textlock; requests are sent outside it
    flush_input(s)
  end)
end

--- Open a session in `task_id` (command: nil for the image's shell, or a string / argv list).
function M.open(task_id, command)
  M.count = M.count + 1
  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_buf_set_name(buf, string.format('dockyard://terminal/%s/%d', task_id, M.count))
  vim.b[buf].dockyard_task = task_id
  local s = { buf = buf, task = task_id }
  if config.options.open_terminal then
    vim.cmd(config.options.open_terminal)
    vim.api.nvim_win_set_buf(0, buf)
  end
  s.chan = vim.api.nvim_open_term(buf, {
    on_input = function(_, _, _, data)
      send_input(s, data)
    end,
  })
  s.cols, s.rows = size_of(buf)
  local params = { taskId = task_id, cols = s.cols, rows = s.rows, command = command }
  M.opening = M.opening + 1
  client.request('dockyard/openSession', params, function(session)
    M.opening = M.opening - 1
    s.id = session.sessionId
    M.sessions[s.id] = s
    vim.b[buf].dockyard_session = s.id
    for _, data in ipairs(M.early[s.id] or {}) do
      vim.api.nvim_chan_send(s.chan, data)
    end
    M.early[s.id] = nil
    if M.opening == 0 then
      M.early = {} -- what other clients' sessions printed meanwhile
    end
    send_input(s, '') -- anything typed while it opened
    M.resize_all()
  end, function(err)
    M.opening = M.opening - 1
    s.exited = true
    vim.api.nvim_chan_send(s.chan, '[could not open a session: ' .. util.error_text(err) .. ']\r\n')
    util.report(err)
  end)
  vim.api.nvim_create_autocmd('BufWipeout', {
    buffer = buf,
    once = true,
    callback = function()
      if s.id and not s.exited then
        s.exited = true
        client.request('dockyard/closeSession', { sessionId = s.id }, nil, function() end)
      end
      if s.id then
        M.sessions[s.id] = nil
      end
    end,
  })
  return buf
end

--- dockyard/sessionOutput {sessionId, data, seq}
function M.on_output(p)
  local s = M.sessions[p.sessionId]
  if s then
    vim.api.nvim_chan_send(s.chan, p.data)
  elseif M.opening > 0 then -- possibly ours, before openSession answered
    M.early[p.sessionId] = M.early[p.sessionId] or {}
    table.insert(M.early[p.sessionId], p.data)
  end
end

--- dockyard/sessionExited {sessionId, exitCode}
function M.on_exited(p)
  M.early[p.sessionId] = nil
  local s = M.sessions[p.sessionId]
  if s and not s.exited then
    s.exited = true
    local code = p.exitCode == nil and '?' or tostring(p.exitCode)
    pcall(vim.api.nvim_chan_send, s.chan, '\r\n[session exited, code ' .. code .. ']\r\n')
  end
end

--- Autocommands that keep PTY sizes in step with windows.
function M.setup_autocmds()
  local group = vim.api.nvim_create_augroup('dockyard_terminal', { clear = true })
  local events = { 'VimResized', 'BufWinEnter', 'WinClosed' }
  if vim.fn.exists('##WinResized') == 1 then
    table.insert(events, 'WinResized') -- 0.9+
  else
    table.insert(events, 'WinScrolled') -- before 0.9 it also fires when a window is resized
  end
  vim.api.nvim_create_autocmd(events, {
    group = group,
    callback = function()
      if next(M.sessions) then
        vim.schedule(M.resize_all)
      end
    end,
  })
end

return M
