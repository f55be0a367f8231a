--- The task list: a scratch buffer `dockyard://tasks` (re-drawn on every dockyard/taskChanged) and,
--- on request, the quickfix list. Keys in the list buffer act on the task under the cursor.
local config = require('dockyard.config')
local state = require('dockyard.state')
local util = require('dockyard.util')

local M = { buf = nil }

local HELP = '<CR> output  t terminal  p pause/resume  s stop/start  X remove (force)  r refresh  q close'

local function line_of(task)
  local extra = task.reason and ('  (' .. task.reason .. ')') or ''
  return string.format('%-14s %-9s %-26s %s%s', task.id, task.state, task.image or '', task.title or '', extra)
end

local function lines()
  local out = { 'Dockyard tasks in ' .. config.root_dir(), HELP, '' }
  for _, task in ipairs(state.list()) do
    table.insert(out, line_of(task))
  end
  if #out == 3 then
    table.insert(out, '(no tasks)')
  end
  return out
end

local function task_under_cursor()
  return vim.api.nvim_get_current_line():match('^(t%-%x+)')
end

local function map(buf, lhs, subcommand)
  vim.keymap.set('n', lhs, function()
    local id = task_under_cursor()
    if id then
      require('dockyard.commands').run(subcommand .. ' ' .. id)
    end
  end, { buffer = buf, nowait = true, desc = 'Dockyard ' .. subcommand })
end

--- Re-draw the list buffer if it exists (called on every task change).
function M.refresh()
  if M.buf and vim.api.nvim_buf_is_valid(M.buf) then
    util.set_lines(M.buf, lines())
  end
end

--- :Dockyard list — show (and create) the list buffer.
function M.open_list()
  local buf, created = util.scratch('dockyard://tasks', 'dockyardtasks')
  M.buf = buf
  if created then
    map(buf, '<CR>', 'output')
    map(buf, 't', 'terminal')
    map(buf, 'p', 'pause')
    map(buf, 's', 'stop')
    map(buf, 'X', 'remove --force')
    vim.keymap.set('n', 'r', function()
      require('dockyard.commands').run('list')
    end, { buffer = buf, nowait = true, desc = 'Dockyard refresh' })
    vim.keymap.set('n', 'q', '<cmd>close<CR>', { buffer = buf, nowait = true })
  end
  M.refresh()
  util.show(buf, config.options.open_output)
  return buf
end

--- :Dockyard list qf — the tasks as a quickfix list.
function M.quickfix()
  local items = vim.tbl_map(function(task)
    return { text = line_of(task), valid = 0 }
  end, state.list())
  vim.fn.setqflist({}, ' ', { title = 'Dockyard tasks', items = items })
  vim.cmd('copen')
end

local function section(out, title, value)
  if value == nil then
    return
  end
  table.insert(out, '')
  table.insert(out, '## ' .. title)
  vim.list_extend(out, vim.split(vim.inspect(value), '\n', { plain = true }))
end

--- :Dockyard status <id> — a getTask result (task, inspect, stats, top) in `dockyard://status/<id>`.
function M.show_status(status)
  local task = status.task
  local out = { line_of(task), 'created ' .. (task.createdAt or '?') .. '  revision ' .. tostring(task.revision) }
  section(out, 'resources', task.resources)
  section(out, 'labels', task.labels)
  section(out, 'stats', status.stats)
  section(out, 'inspect', status.inspect)
  if status.top then
    table.insert(out, '')
    table.insert(out, '## processes')
    table.insert(out, table.concat(status.top.titles or {}, '\t'))
    for _, row in ipairs(status.top.processes or {}) do
      table.insert(out, table.concat(row, '\t'))
    end
  end
  return util.show_text('dockyard://status/' .. task.id, out, 'dockyardstatus')
end

return M
