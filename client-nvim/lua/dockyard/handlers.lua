--- Handlers for what the daemon sends unasked (given to the LSP client as `handlers`).
--- Signature (all Neovim versions): handler(err, params, ctx); runs on the main loop.
local util = require('dockyard.util')

local M = {}

local function guarded(fn)
  return function(_, params)
    local ok, err = pcall(fn, params or {})
    if not ok then
      util.notify('handler failed: ' .. tostring(err), vim.log.levels.ERROR)
    end
  end
end

local LSP_LEVELS = { vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.DEBUG }

function M.handlers()
  local state = require('dockyard.state')
  local output = require('dockyard.output')
  local terminal = require('dockyard.terminal')
  local ui = require('dockyard.ui')
  local config = require('dockyard.config')
  return {
    ['dockyard/taskChanged'] = guarded(function(p)
      state.upsert(p.task)
      ui.refresh()
      util.fire('DockyardTaskChanged', { id = p.task.id, state = p.task.state })
    end),
    ['dockyard/status'] = guarded(function(p)
      state.set_counts(p.counts or {})
      vim.cmd('redrawstatus')
      util.fire('DockyardStatus', p.counts)
    end),
    ['dockyard/output'] = guarded(output.on_output),
    ['dockyard/execExited'] = guarded(output.on_exited),
    ['dockyard/sessionOutput'] = guarded(terminal.on_output),
    ['dockyard/sessionExited'] = guarded(terminal.on_exited),
    -- window/logMessage: errors and warnings (by default) are shown; everything goes to the LSP log.
    ['window/logMessage'] = guarded(function(p)
      local level = LSP_LEVELS[p.type] or vim.log.levels.DEBUG
      if level >= config.options.log_level then
        util.notify(p.message or '', level)
      end
      require('vim.lsp.log').info('dockyard', p.message)
    end),
  }
end

return M
