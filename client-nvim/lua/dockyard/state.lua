--- What the plugin knows about the daemon: the task cache (fed by listTasks and dockyard/taskChanged),
--- the counts of the last dockyard/status, and the statusline component built from them.
local config = require('dockyard.config')

local M = {
  tasks = {}, -- id -> Task (raw wire table); removed tasks are dropped
  counts = nil, -- state -> n, from the last dockyard/status (nil until one arrives)
  connection = 'off', -- off | starting | ready | exited
}

--- Record a task as the daemon last described it.
function M.upsert(task)
  if task.state == 'removed' then
    M.tasks[task.id] = nil
  else
    M.tasks[task.id] = task
  end
end

--- Replace the cache with a listTasks result. Counts come from it until a dockyard/status arrives.
function M.set_tasks(tasks)
  M.tasks = {}
  for _, task in ipairs(tasks) do
    M.upsert(task)
  end
end

function M.set_counts(counts)
  M.counts = counts
end

--- Tasks as a list, oldest first.
function M.list()
  local out = vim.tbl_values(M.tasks)
  table.sort(out, function(a, b)
    return (a.createdAt or '') < (b.createdAt or '')
  end)
  return out
end

--- Task ids, optionally only those in one of `states` (a list of state names).
function M.ids(states)
  local ids = {}
  for _, task in ipairs(M.list()) do
    if not states or vim.tbl_contains(states, task.state) then
      table.insert(ids, task.id)
    end
  end
  return ids
end

--- Counts by state: the daemon's last dockyard/status, else counted from the task cache.
function M.current_counts()
  if M.counts then
    return M.counts
  end
  local counts = {}
  for _, task in pairs(M.tasks) do
    counts[task.state] = (counts[task.state] or 0) + 1
  end
  return counts
end

--- The statusline component: '⚓ 2▶ 1⏸ 0✗' (running, paused, failed+lost; ' N■' added for stopped tasks).
--- '' before the daemon was ever started, '⚓ …' while it starts, '⚓ off' after it exited.
function M.statusline()
  local icons = config.options.icons
  if M.connection == 'off' then
    return ''
  elseif M.connection == 'starting' then
    return icons.anchor .. ' …'
  elseif M.connection == 'exited' then
    return icons.anchor .. ' off'
  end
  local c = M.current_counts()
  local text = string.format(
    '%s %d%s %d%s %d%s',
    icons.anchor,
    c.running or 0,
    icons.running,
    c.paused or 0,
    icons.paused,
    (c.failed or 0) + (c.lost or 0),
    icons.failed
  )
  if (c.stopped or 0) > 0 then
    text = text .. string.format(' %d%s', c.stopped, icons.stopped)
  end
  return text
end

return M
