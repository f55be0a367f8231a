--- `:Dockyard <subcommand> [--flag[=value]] [task-id] [text]` and its completion.
---
--- Each subcommand names the daemon methods it needs; before running, they are checked against the
--- `features` the daemon announced in `initialize`, and a missing one gets a plain vim.notify instead
--- of a request (checkpoints, integration, agents and plans are not implemented by the daemon yet).
--- A missing task id is taken from the current output/terminal buffer, else the only task, else asked.
local client = require('dockyard.client')
local config = require('dockyard.config')
local state = require('dockyard.state')
local util = require('dockyard.util')

local M = {}

-- Leading `--name` / `--name=value` tokens -> flags; the rest of the text is returned trimmed.
local function parse(text)
  local flags, rest = {}, text or ''
  while true do
    local flag, after = rest:match('^%s*%-%-(%S+)%s*(.*)$')
    if not flag then
      return flags, vim.trim(rest)
    end
    local key, value = flag:match('^([^=]+)=(.*)$')
    flags[key or flag] = value or true
    rest = after
  end
end

-- First word and the rest; flags after the word are parsed too (`remove t-1 --force`).
local function word(text)
  local first, rest = vim.trim(text):match('^(%S+)%s*(.*)$')
  return first, rest or ''
end

-- Call fn(task_id): the given id, else the task of the current buffer, else the only one, else ask.
local function with_task(id, states, fn)
  id = id or vim.b.dockyard_task
  if id then
    return fn(id)
  end
  local ids = state.ids(states)
  if #ids == 1 then
    return fn(ids[1])
  elseif #ids == 0 then
    return util.notify('no task to act on (give a task id)', vim.log.levels.WARN)
  end
  vim.ui.select(ids, { prompt = 'Dockyard task' }, function(choice)
    if choice then
      fn(choice)
    end
  end)
end

-- Show a result of a method this plugin has no special view for.
local function show_result(name)
  return function(result)
    util.show_text('dockyard://result/' .. name, vim.inspect(result))
  end
end

-- Flip between two methods by the task's cached state (pause<->resume, stop<->start).
local function toggle(on_state, when_on, when_off)
  return function(rest)
    local flags, text = parse(rest)
    local id = word(text)
    with_task(id, nil, function(task_id)
      local task = state.tasks[task_id]
      local method = (task and task.state == on_state) and when_on or when_off
      client.request(method, { taskId = task_id, timeoutS = tonumber(flags.timeout) }, function(t)
        state.upsert(t)
        util.notify(string.format('%s is %s', t.id, t.state))
      end)
    end)
  end
end

local function simple(method, fields)
  return function(rest)
    local flags, text = parse(rest)
    local id, more = word(text)
    with_task(id, nil, function(task_id)
      client.request(method, fields(task_id, flags, more), show_result(method:match('/(.*)')))
    end)
  end
end

local LIVE = { 'running' }
local NEW_FLAGS = { '--image=', '--memory=', '--cpus=', '--pids=', '--network=' }

--- name -> { needs = {methods}, run = fn(rest, bang), states = task states to complete, flags = {...} }
M.subcommands = {
  new = {
    needs = { 'dockyard/createTask' },
    flags = NEW_FLAGS,
    run = function(rest)
      local flags, title = parse(rest)
      if title == '' then
        return util.notify('usage: :Dockyard new [--image=IMG] [--memory=MB] [--cpus=N] [--pids=N] <title>')
      end
      require('dockyard').create_task({
        title = title,
        image = flags.image or config.options.image,
        network = flags.network,
        resources = (flags.memory or flags.cpus or flags.pids)
            and { memoryMb = tonumber(flags.memory), cpus = tonumber(flags.cpus), pids = tonumber(flags.pids) }
          or nil,
      })
    end,
  },
  run = {
    needs = { 'dockyard/exec' },
    states = LIVE,
    flags = { '--timeout=' },
    run = function(rest)
      local flags, text = parse(rest)
      local id, command = word(text)
      if not id or command == '' then
        return util.notify('usage: :Dockyard run [--timeout=S] <task> <shell command>')
      end
      require('dockyard').exec(id, command, { timeoutS = tonumber(flags.timeout) })
    end,
  },
  terminal = {
    needs = { 'dockyard/openSession', 'dockyard/sessionInput' },
    states = LIVE,
    run = function(rest)
      local id, command = word(rest)
      with_task(id, LIVE, function(task_id)
        require('dockyard.terminal').open(task_id, command ~= '' and command or nil)
      end)
    end,
  },
  status = {
    needs = { 'dockyard/getTask' },
    run = function(rest)
      local id = word(rest)
      if not id then
        local lines = { state.statusline() }
        for _, task in ipairs(state.list()) do
          table.insert(lines, string.format('%s %s  %s', task.id, task.state, task.title or ''))
        end
        return util.notify(table.concat(lines, '\n'))
      end
      local params = { taskId = id, include = { 'stats', 'inspect', 'top' } }
      client.request('dockyard/getTask', params, require('dockyard.ui').show_status)
    end,
  },
  logs = {
    needs = { 'dockyard/logs' },
    flags = { '--tail=' },
    run = function(rest)
      local flags, text = parse(rest)
      with_task(word(text), nil, function(task_id)
        client.request('dockyard/logs', { taskId = task_id, tail = tonumber(flags.tail) }, function(res)
          util.show_text('dockyard://logs/' .. task_id, res.text or '', 'dockyardlogs')
        end)
      end)
    end,
  },
  pause = { -- toggles: pauses a running task, resumes a paused one
    needs = { 'dockyard/pauseTask', 'dockyard/resumeTask' },
    states = { 'running', 'paused' },
    run = toggle('paused', 'dockyard/resumeTask', 'dockyard/pauseTask'),
  },
  resume = { needs = { 'dockyard/resumeTask' }, states = { 'paused' }, run = toggle('-', nil, 'dockyard/resumeTask') },
  stop = { -- toggles: stops a running/paused task, starts a stopped (or failed) one
    needs = { 'dockyard/stopTask', 'dockyard/startTask' },
    flags = { '--timeout=' },
    run = toggle('stopped', 'dockyard/startTask', 'dockyard/stopTask'),
  },
  start = { needs = { 'dockyard/startTask' }, run = toggle('-', nil, 'dockyard/startTask') },
  remove = {
    needs = { 'dockyard/removeTask' },
    flags = { '--force' },
    run = function(rest, bang)
      local flags, text = parse(rest)
      local id, more = word(text)
      local force = bang or flags.force or parse(more).force or false
      with_task(id, nil, function(task_id)
        client.request('dockyard/removeTask', { taskId = task_id, force = force == true or force == 'true' }, function()
          state.upsert({ id = task_id, state = 'removed' })
          require('dockyard.ui').refresh()
          util.notify(task_id .. ' removed')
        end)
      end)
    end,
  },
  list = {
    needs = { 'dockyard/listTasks' },
    run = function(rest)
      client.request('dockyard/listTasks', vim.empty_dict(), function(res)
        state.set_tasks(res.tasks or {})
        local ui = require('dockyard.ui')
        if vim.trim(rest) == 'qf' then
          ui.quickfix()
        else
          ui.open_list()
        end
      end)
    end,
  },
  output = {
    needs = {},
    run = function(rest)
      with_task(word(rest), nil, function(task_id)
        util.show(require('dockyard.output').buffer(task_id), config.options.open_output)
      end)
    end,
  },
  -- Wired to the protocol names of DESIGN §4; the daemon does not implement these yet.
  checkpoint = {
    needs = { 'dockyard/checkpointTask' },
    run = simple('dockyard/checkpointTask', function(id, _, label)
      return { taskId = id, label = label ~= '' and label or nil }
    end),
  },
  restore = {
    needs = { 'dockyard/restoreCheckpoint' },
    flags = { '--fork' },
    run = simple('dockyard/restoreCheckpoint', function(id, flags, checkpoint)
      return { taskId = id, checkpointId = checkpoint, mode = flags.fork and 'fork' or 'inPlace' }
    end),
  },
  integrate = {
    needs = { 'dockyard/integrateTask' },
    flags = { '--strategy=' },
    run = simple('dockyard/integrateTask', function(id, flags)
      return { taskId = id, strategy = flags.strategy }
    end),
  },
  attach = {
    needs = { 'dockyard/attachAgent' },
    run = simple('dockyard/attachAgent', function(id, _, more)
      local agent, prompt = word(more)
      return { taskId = id, agent = agent, prompt = prompt ~= '' and prompt or nil }
    end),
  },
  detach = {
    needs = { 'dockyard/detachAgent' },
    run = simple('dockyard/detachAgent', function(id)
      return { taskId = id }
    end),
  },
  subtasks = {
    needs = { 'dockyard/createSubtasks' },
    run = simple('dockyard/createSubtasks', function(id, _, titles)
      local items = {}
      for title in titles:gmatch('[^;]+') do
        table.insert(items, { title = vim.trim(title) })
      end
      return { taskId = id, items = #items > 0 and items or nil }
    end),
  },
  ultrawork = {
    needs = { 'dockyard/runPlan' },
    flags = { '--parallel=', '--verify=' },
    run = simple('dockyard/runPlan', function(id, flags)
      return { taskId = id, maxParallel = tonumber(flags.parallel), verifyCommand = flags.verify }
    end),
  },
}

--- Names of the methods in `needs` the daemon lacks.
local function missing(needs)
  return vim.tbl_filter(function(method)
    return not client.supports(method)
  end, needs)
end

--- Run `:Dockyard <text>` (text = 'subcommand args...'); `bang` is the command's !.
function M.run(text, bang)
  local name, rest = word(text or '')
  name = name or 'list'
  local spec = M.subcommands[name]
  if not spec then
    local names = vim.tbl_keys(M.subcommands)
    table.sort(names)
    names = table.concat(names, ' ')
    return util.notify(string.format('unknown subcommand %q; one of: %s', name, names), vim.log.levels.ERROR)
  end
  require('dockyard').ensure()
  client.when_ready(function(c)
    if not c then
      return util.notify('the daemon is not running', vim.log.levels.ERROR)
    end
    local lacking = missing(spec.needs)
    if #lacking > 0 then
      local info = client.info or {}
      return util.notify(
        string.format(
          ':Dockyard %s is not available: this daemon (dockyard %s) does not implement %s yet.',
          name,
          info.serverVersion or '?',
          table.concat(lacking, ', ')
        ),
        vim.log.levels.WARN
      )
    end
    spec.run(rest, bang)
  end)
end

--- Completion for :Dockyard (never starts the daemon: task ids come from the cache).
function M.complete(arglead, cmdline, cursorpos)
  local before = cmdline:sub(1, cursorpos):gsub('^%s*%S+%s*', '', 1) -- drop 'Dockyard[!]'
  local words = vim.split(vim.trim(before), '%s+')
  if before:match('%s$') == nil then
    table.remove(words) -- the word being completed
  end
  local function matching(list)
    return vim.tbl_filter(function(item)
      return vim.startswith(item, arglead)
    end, list)
  end
  if #words == 0 or words[1] == '' then
    local names = vim.tbl_keys(M.subcommands)
    table.sort(names)
    return matching(names)
  end
  local spec = M.subcommands[words[1]]
  if not spec then
    return {}
  end
  if vim.startswith(arglead, '-') then
    return matching(spec.flags or {})
  end
  if words[1] == 'list' then
    return matching({ 'qf' })
  end
  local positional = vim.tbl_filter(function(w)
    return not vim.startswith(w, '--')
  end, { unpack(words, 2) })
  if words[1] ~= 'new' and #positional == 0 then
    return matching(state.ids(spec.states))
  end
  return {}
end

return M
