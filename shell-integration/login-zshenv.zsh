# prodguard login shell: zsh reads this as $ZDOTDIR/.zshenv; it reads the user's own.
[[ -r @USER_DIR@/.zshenv ]] && ZDOTDIR=@USER_DIR@ source @USER_DIR@/.zshenv
