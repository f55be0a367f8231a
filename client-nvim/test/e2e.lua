-- End-to-end check of dockyard.nvim against the real daemon; run by tests/e2e/test_nvim.py as
--   nvim --headless -u NONE -i NONE -n --cmd '<rtp += client-nvim>' -c 'lua dofile(<this file>)'
-- Environment: DOCKYARD_TEST_ROOT (workspace), DOCKYARD_TEST_CMD (daemon argv, JSON),
-- DOCKYARD_TEST_IMAGE, DOCKYARD_TEST_RESULT (where the JSON report goes).
--
-- The steps run in a coroutine that yields to the event loop while waiting, so LSP messages, typed keys
-- (the terminal test feeds keys) and timers are processed as in an interactive editor. Every wait is
-- bounded; a global deadline writes the report and quits even if a step hangs.
local env = function(name)
  local value = os.getenv(name)
  return value or error(name .. ' is not set')
end
local version = vim.version()
local R = { ok = false, steps = {}, notifications = {} }
R.nvim = string.format('%d.%d.%d', version.major, version.minor, version.patch)
local uv = vim.uv or vim.loop
local started = uv.hrtime()
local finished = false

local function finish(err)
  if finished then
    return
  end
  finished = true
  R.error = err and tostring(err) or nil
  R.ok = err == nil
  R.seconds = (uv.hrtime() - started) / 1e9
  local ok, werr = pcall(function()
    vim.fn.writefile({ vim.json.encode(R) }, env('DOCKYARD_TEST_RESULT'))
  end)
  if not ok then
    io.stderr:write('could not write the report: ' .. tostring(werr) .. '\n')
  end
  vim.cmd((R.ok and ok) and 'qall!' or 'cquit! 1')
end

vim.notify = function(msg, level)
  table.insert(R.notifications, { msg = tostring(msg), level = level or vim.log.levels.INFO })
end

local co
local function resume()
  local ok, err = coroutine.resume(co)
  if not ok then
    finish(debug.traceback(co, err))
  end
end

-- Yield to the event loop until cond() is true (or fail after ms).
local function wait(what, ms, cond)
  local deadline = uv.now() + ms
  while true do
    uv.update_time()
    local ok, value = pcall(cond)
    if ok and value then
      return value
    end
    if uv.now() > deadline then
      error('timed out after ' .. ms .. ' ms waiting for ' .. what, 2)
    end
    vim.defer_fn(resume, 25)
    coroutine.yield()
  end
end

local function step(name, fn)
  local t0 = uv.hrtime()
  fn()
  table.insert(R.steps, { name = name, ms = math.floor((uv.hrtime() - t0) / 1e6) })
end

local function buffer_named(name)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(buf) == name then
      return buf
    end
  end
end

local function text_of(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

local function notified(pattern, since)
  for i = (since or 0) + 1, #R.notifications do
    if R.notifications[i].msg:find(pattern) then
      return R.notifications[i]
    end
  end
end

local function main()
  vim.cmd('runtime plugin/dockyard.lua')
  assert(vim.fn.exists(':Dockyard') == 2, ':Dockyard is not defined')
  local dy = require('dockyard')
  local client = require('dockyard.client')
  local state = require('dockyard.state')
  dy.setup({ cmd = vim.json.decode(env('DOCKYARD_TEST_CMD')), root_dir = env('DOCKYARD_TEST_ROOT') })
  R.statusline_before = dy.statusline()
  local id

  step('start via :Dockyard list', function()
    vim.cmd('edit ' .. vim.fn.fnameescape(env('DOCKYARD_TEST_ROOT') .. '/notes.txt'))
    local file_buf = vim.api.nvim_get_current_buf()
    vim.cmd('Dockyard list')
    wait('the daemon to initialize', 60000, function()
      return client.client ~= nil
    end)
    R.info = client.info
    R.attached = vim.lsp.buf_is_attached(file_buf, client.id)
    R.supports = {
      createTask = dy.supports('dockyard/createTask'),
      checkpointTask = dy.supports('dockyard/checkpointTask'),
    }
    R.list_empty = text_of(wait('the list buffer', 10000, function()
      return buffer_named('dockyard://tasks')
    end))
  end)

  step('unsupported command', function()
    -- The first subcommand whose method this daemon lacks (features grow over time).
    local future = {
      { 'checkpoint', 'dockyard/checkpointTask' },
      { 'restore', 'dockyard/restoreCheckpoint' },
      { 'integrate', 'dockyard/integrateTask' },
      { 'attach', 'dockyard/attachAgent' },
      { 'detach', 'dockyard/detachAgent' },
      { 'subtasks', 'dockyard/createSubtasks' },
      { 'ultrawork', 'dockyard/runPlan' },
    }
    for _, pair in ipairs(future) do
      if not dy.supports(pair[2]) then
        vim.cmd('Dockyard ' .. pair[1] .. ' t-000000')
        R.unsupported = { subcommand = pair[1], method = pair[2] }
        R.unsupported.notice = wait('the not-implemented notice', 5000, function()
          return notified(pair[2])
        end)
        return
      end
    end
  end)

  step('completion', function()
    R.complete_sub = vim.fn.getcompletion('Dockyard pa', 'cmdline')
    R.complete_new = vim.fn.getcompletion('Dockyard new --im', 'cmdline')
  end)

  step(':Dockyard new', function()
    vim.cmd('Dockyard new --image=' .. env('DOCKYARD_TEST_IMAGE') .. ' nvim e2e')
    local task = wait('the task to run', 60000, function()
      for _, t in pairs(state.tasks) do
        if t.title == 'nvim e2e' and t.state == 'running' then
          return t
        end
      end
    end)
    id = task.id
    R.task = task
    R.statusline_running = wait('the statusline to show 1 running', 20000, function()
      return dy.statusline() == '⚓ 1▶ 0⏸ 0✗' and dy.statusline()
    end)
    R.complete_id = vim.fn.getcompletion('Dockyard pause ', 'cmdline')
  end)

  step(':Dockyard run', function()
    vim.cmd('Dockyard run ' .. id .. ' echo hello-from-nvim')
    local buf = dy.output_buffer(id)
    wait('exit 0 in the output buffer', 30000, function()
      return text_of(buf):find('[exit 0]', 1, true)
    end)
    vim.cmd('Dockyard run ' .. id .. " printf part-; sleep 0.3; printf 'one\\n'; echo to-stderr >&2; exit 3")
    wait('exit 3 in the output buffer', 30000, function()
      return text_of(buf):find('[exit 3]', 1, true)
    end)
    R.output_name = vim.api.nvim_buf_get_name(buf)
    R.output_lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  end)

  step(':Dockyard pause (toggle), then p in the list buffer', function()
    vim.cmd('Dockyard pause ' .. id)
    R.statusline_paused = wait('the statusline to show 1 paused', 20000, function()
      return dy.statusline() == '⚓ 0▶ 1⏸ 0✗' and dy.statusline()
    end)
    vim.cmd('Dockyard list')
    local list = wait('the list buffer', 10000, function()
      return buffer_named('dockyard://tasks')
    end)
    vim.api.nvim_set_current_win(wait('a window on the list', 5000, function()
      return vim.fn.win_findbuf(list)[1]
    end))
    local row = wait('the task line', 10000, function()
      for i, line in ipairs(vim.api.nvim_buf_get_lines(list, 0, -1, false)) do
        if vim.startswith(line, id) then
          return i
        end
      end
    end)
    vim.api.nvim_win_set_cursor(0, { row, 0 })
    vim.api.nvim_feedkeys('p', 'm', false)
    wait('the task to run again', 20000, function()
      return dy.statusline() == '⚓ 1▶ 0⏸ 0✗'
    end)
  end)

  step(':Dockyard stop (toggle)', function()
    vim.cmd('Dockyard stop --timeout=1 ' .. id)
    R.statusline_stopped = wait('the statusline to show 1 stopped', 30000, function()
      return dy.statusline() == '⚓ 0▶ 0⏸ 0✗ 1■' and dy.statusline()
    end)
    vim.cmd('Dockyard stop ' .. id)
    wait('the task to run again', 30000, function()
      return dy.statusline() == '⚓ 1▶ 0⏸ 0✗'
    end)
  end)

  step(':Dockyard terminal', function()
    vim.o.lines, vim.o.columns = 40, 100
    vim.cmd('only')
    vim.cmd('Dockyard terminal ' .. id)
    local buf = vim.api.nvim_get_current_buf()
    R.terminal_name = vim.api.nvim_buf_get_name(buf)
    R.session_id = wait('the session to open', 20000, function()
      return vim.b[buf].dockyard_session
    end)
    vim.cmd('resize 12')
    local session = require('dockyard.terminal').sessions[R.session_id]
    wait('the resize to be acknowledged', 10000, function()
      return session.rows == 12 and session.resizing == 0
    end)
    local keys = 'iecho term-$((6*7)); stty size\r'
    vim.api.nvim_feedkeys(keys, 'n', false)
    wait('the shell to answer in the terminal buffer', 20000, function()
      return text_of(buf):find('term%-42')
    end)
    R.terminal_text = wait('stty size in the terminal buffer', 20000, function()
      R.terminal_text = text_of(buf)
      return R.terminal_text:find('\n12 ' .. vim.api.nvim_win_get_width(0) .. '\n', 1, true) and R.terminal_text
    end)
    vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('<C-\\><C-n>', true, false, true), 'n', false)
    wait('normal mode', 5000, function()
      return vim.api.nvim_get_mode().mode:sub(1, 1) == 'n' -- 'nt': Normal mode in a terminal buffer
    end)
    vim.cmd('bwipeout! ' .. buf)
    R.closed_session = wait('the session to be gone', 20000, function()
      local _, err = dy.request_sync('dockyard/sessionInput', { sessionId = R.session_id, data = 'x' }, 5000)
      return err and err.code == -32018 and err.message
    end)
  end)

  step(':Dockyard status / logs / list / list qf', function()
    vim.cmd('Dockyard status ' .. id)
    R.status_text = text_of(wait('the status buffer', 20000, function()
      return buffer_named('dockyard://status/' .. id)
    end))
    vim.cmd('Dockyard logs --tail=20 ' .. id)
    wait('the logs buffer', 20000, function()
      return buffer_named('dockyard://logs/' .. id)
    end)
    vim.cmd('Dockyard list')
    R.list_text = wait('the task in the list buffer', 10000, function()
      local text = text_of(buffer_named('dockyard://tasks'))
      return text:find(id, 1, true) and text
    end)
    vim.cmd('Dockyard list qf')
    R.quickfix = wait('the quickfix list', 10000, function()
      local items = vim.fn.getqflist()
      return #items == 1 and items[1].text
    end)
  end)

  step('errors and executeCommand', function()
    local before = #R.notifications
    vim.cmd('Dockyard pause t-deadbeef')
    R.not_found = wait('the daemon error as a notification', 10000, function()
      return notified('deadbeef', before)
    end)
    vim.cmd('Dockyard bogus')
    R.unknown_subcommand = wait('the unknown-subcommand notice', 5000, function()
      return notified('unknown subcommand', before)
    end)
    vim.cmd('Dockyard new')
    R.new_usage = wait('the usage of new', 5000, function()
      return notified('usage: :Dockyard new', before)
    end)
    vim.cmd('Dockyard status')
    R.status_summary = wait('the status summary', 5000, function()
      return notified(id .. ' running', before)
    end)
    local params = { command = 'dockyard.listTasks', arguments = { vim.empty_dict() } }
    local res, err = dy.request_sync('workspace/executeCommand', params, 10000)
    assert(not err, vim.inspect(err))
    R.execute_command_ids = vim.tbl_map(function(t)
      return t.id
    end, res.tasks)
  end)

  step(':Dockyard remove', function()
    local before = #R.notifications
    vim.cmd('Dockyard remove ' .. id)
    R.remove_refused = wait('remove without force to be refused', 20000, function()
      return notified('force', before)
    end)
    vim.cmd('Dockyard! remove ' .. id)
    R.statusline_removed = wait('the statusline to show 0 tasks', 30000, function()
      return dy.statusline() == '⚓ 0▶ 0⏸ 0✗' and state.tasks[id] == nil and dy.statusline()
    end)
    local res = assert(dy.request_sync('dockyard/listTasks', vim.empty_dict(), 10000))
    R.tasks_after = #res.tasks
  end)

  step('stop the daemon', function()
    dy.stop()
    R.statusline_after = wait('the daemon to exit', 20000, function()
      return state.connection == 'exited' and dy.statusline()
    end)
  end)
end

vim.defer_fn(function()
  finish('global deadline passed')
end, tonumber(os.getenv('DOCKYARD_TEST_DEADLINE_MS') or '150000'))

co = coroutine.create(function()
  main()
  finish(nil)
end)
resume()
