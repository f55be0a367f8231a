-- luacheck config for the plugin (Debian: apt-get install lua-check; run `luacheck .` in client-nvim/).
std = 'luajit'
globals = { 'vim' }
max_line_length = 120
