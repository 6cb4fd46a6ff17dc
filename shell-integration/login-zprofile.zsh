# prodguard login shell: zsh reads this as $ZDOTDIR/.zprofile; it reads the user's own.
[[ -r @USER_DIR@/.zprofile ]] && ZDOTDIR=@USER_DIR@ source @USER_DIR@/.zprofile
