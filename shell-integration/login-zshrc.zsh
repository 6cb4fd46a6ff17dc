# prodguard login shell: zsh reads this as $ZDOTDIR/.zshrc. The private directory holding these
# files is removed once zsh reads this one (`.zlogin` then comes from the user's directory), the
# user's own .zshrc is read, and the integration (prodguard.zsh) follows.
/bin/rm -f -- @PRIVATE_DIR@/.zshenv @PRIVATE_DIR@/.zprofile @PRIVATE_DIR@/.zshrc 2>/dev/null; /bin/rmdir -- @PRIVATE_DIR@ 2>/dev/null
[[ -r @USER_DIR@/.zshrc ]] && ZDOTDIR=@USER_DIR@ source @USER_DIR@/.zshrc
ZDOTDIR=@USER_DIR@
