--- Small helpers shared by the other modules: messages and scratch buffers.
local config = require('dockyard.config')

local M = {}

function M.notify(msg, level)
  vim.notify('Dockyard: ' .. msg, level or vim.log.levels.INFO)
end

--- A JSON-RPC error as one line: the daemon's message, plus the first field error of a -32602.
function M.error_text(err)
  if type(err) ~= 'table' then
    return tostring(err)
  end
  local text = err.message or vim.inspect(err)
  local first = type(err.data) == 'table' and err.data[1]
  if type(first) == 'table' and first.msg then
    local loc = type(first.loc) == 'table' and table.concat(vim.tbl_map(tostring, first.loc), '.') or '?'
    text = string.format('%s (%s: %s)', text, loc, first.msg)
  end
  if err.code then
    text = string.format('%s [%d]', text, err.code)
  end
  return text
end

function M.report(err)
  M.notify(M.error_text(err), vim.log.levels.ERROR)
end

--- Windows currently showing `buf`.
function M.windows_of(buf)
  return vim.tbl_filter(function(win)
    return vim.api.nvim_win_get_buf(win) == buf
  end, vim.api.nvim_list_wins())
end

--- Show `buf` with the Ex command `how` (e.g. 'botright split') unless a window already shows it.
function M.show(buf, how)
  if not how or #M.windows_of(buf) > 0 then
    return
  end
  vim.cmd(how)
  vim.api.nvim_win_set_buf(0, buf)
end

local named = {} -- name -> buffer handle (bufnr('name') would treat the name as a pattern)

--- A scratch buffer called `name` (created once, reused while valid); not listed, not a file.
function M.scratch(name, filetype)
  local buf = named[name]
  if buf and vim.api.nvim_buf_is_valid(buf) then
    return buf, false
  end
  buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, name)
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].filetype = filetype or 'dockyard'
  vim.bo[buf].modifiable = false
  named[name] = buf
  return buf, true
end

--- Replace the lines of a (non-modifiable) scratch buffer.
function M.set_lines(buf, lines)
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
end

--- Fill the scratch buffer `name` with `text` (a string or a list of lines) and show it.
function M.show_text(name, text, filetype)
  local lines = type(text) == 'table' and text or vim.split(text, '\n', { plain = true })
  local buf = M.scratch(name, filetype)
  M.set_lines(buf, lines)
  M.show(buf, config.options.open_output)
  return buf
end

--- Run the User autocommand `pattern` if anyone listens (without 'No matching autocommands').
function M.fire(pattern, data)
  if #vim.api.nvim_get_autocmds({ event = 'User', pattern = pattern }) > 0 then
    vim.g.dockyard_event = data
    vim.api.nvim_exec_autocmds('User', { pattern = pattern, modeline = false })
  end
end

return M
