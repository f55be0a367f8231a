--- Options of `require('dockyard').setup()`. Every key is documented in docs/neovim.md.
local M = {}

M.defaults = {
  -- The daemon; one process per Neovim instance, speaking LSP-framed JSON-RPC on stdio.
  cmd = { 'dockyard', 'serve', '--stdio' },
  cmd_env = nil,
  -- Workspace root (a string, or a function returning one). Default: the git root above the
  -- current directory, else the current directory.
  root_dir = nil,
  -- Image for `:Dockyard new` when no --image= is given (nil: the workspace default of the daemon).
  image = nil,
  -- Start the daemon in setup() instead of on the first :Dockyard command / API call.
  autostart = false,
  -- Attach the current file buffer to the client (so :LspInfo lists it). Nothing depends on it.
  attach = true,
  -- How output, result, logs and terminal buffers are shown when not visible yet (false: don't show).
  open_output = 'botright split',
  open_terminal = 'botright split',
  -- request_sync() default timeout.
  timeout_ms = 60000,
  -- window/logMessage at this level or more severe is shown with vim.notify (the rest goes to the LSP log).
  log_level = vim.log.levels.WARN,
  -- statusline(): '⚓ 2▶ 1⏸ 0✗' (plus ' 1■' when some tasks are stopped).
  icons = { anchor = '⚓', running = '▶', paused = '⏸', failed = '✗', stopped = '■' },
}

M.options = vim.deepcopy(M.defaults)

--- Merge user options over the defaults. Lists (cmd) replace, they are not merged index by index.
function M.set(opts)
  opts = opts or {}
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  if opts.cmd then
    M.options.cmd = opts.cmd
  end
end

--- The workspace root the daemon is started for.
function M.root_dir()
  local root = M.options.root_dir
  if type(root) == 'function' then
    root = root()
  end
  if root and root ~= '' then
    local full = vim.fn.fnamemodify(root, ':p'):gsub('(.)/$', '%1')
    return full
  end
  local cwd = vim.fn.getcwd()
  local dir = vim.fn.finddir('.git', cwd .. ';')
  if dir ~= '' then
    return vim.fn.fnamemodify(dir, ':p:h:h') -- '/x/.git/' -> '/x'
  end
  local file = vim.fn.findfile('.git', cwd .. ';') -- a worktree's .git file
  if file ~= '' then
    return vim.fn.fnamemodify(file, ':p:h')
  end
  return cwd
end

return M
