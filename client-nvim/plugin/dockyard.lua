-- dockyard.nvim entry point: defines :Dockyard. Modules load on first use; setup() is optional.
if vim.g.loaded_dockyard then
  return
end
vim.g.loaded_dockyard = 1

if vim.fn.has('nvim-0.7') == 0 then
  vim.api.nvim_err_writeln('dockyard.nvim needs Neovim 0.7 or newer')
  return
end

vim.api.nvim_create_user_command('Dockyard', function(opts)
  require('dockyard.commands').run(opts.args, opts.bang)
end, {
  nargs = '*',
  bang = true,
  desc = 'Dockyard task containers (:Dockyard <subcommand>)',
  complete = function(arglead, cmdline, cursorpos)
    return require('dockyard.commands').complete(arglead, cmdline, cursorpos)
  end,
})
