# prodguard integration for bash: checks the whole command line before bash runs it.
# Printed by `prodguard init bash`; the login shell loads it after the user's own startup files.
#
# Return is bound to a macro of two keys: the first runs __prodguard_check (bind -x), which
# decides and then binds the second key to accept-line (run the line) or to a no-op (keep it).
# A DEBUG trap cannot do this: it sees one simple command at a time, so in `uptime; rm -rf x`
# the `rm` would still run after a refusal of the first part.
#
# This stops mistakes, not a user who wants to get around it: `bind -r '\C-m'` undoes it.

# Include guard: already loaded, not interactive, or a bash without bind -x and READLINE_LINE.
if [[ -n ${__prodguard_loaded-} || $- != *i* || ${BASH_VERSINFO[0]:-0} -lt 4 ]]; then
  return 0
elif [[ -z ${PRODGUARD_NO_BIND-} ]]; then
  __prodguard_loaded=1
  __prodguard_bin=@PRODGUARD_BIN@
  __prodguard_started=

  # The shell's own variables that the line names ($NAME, ${NAME…}), for the guard in
  # PRODGUARD_SHELL_VARS: the guard runs in its own process, which sees only exported ones. One
  # line each, NAME='value' in bash's quoting, `unset NAME` or `unknown NAME` (arrays and the
  # like). No subshell: this costs a few string operations per name. A long value is reported
  # as unknown, and the report stays far below what the kernel allows in the environment.
  __prodguard_vars() {
    local __pg_rest=$1 __pg_n __pg_v
    __prodguard_report=
    while [[ $__pg_rest =~ \$\{?[#!]?([A-Za-z_][A-Za-z0-9_]*) && ${#__prodguard_report} -lt 65536 ]]; do
      __pg_n=${BASH_REMATCH[1]}
      __pg_rest=${__pg_rest#*"${BASH_REMATCH[0]}"}
      case $__pg_n in __pg_* | __prodguard*) continue ;; esac
      if [[ ${!__pg_n@a} == *[aAn]* ]]; then
        __prodguard_report+="unknown $__pg_n"$'\n'
      elif [[ -v $__pg_n ]]; then
        __pg_v=${!__pg_n@A}
        if ((${#__pg_v} > 8192)); then
          __prodguard_report+="unknown $__pg_n"$'\n'
        else
          __prodguard_report+="$__pg_v"$'\n'
        fi
      else
        __prodguard_report+="unset $__pg_n"$'\n'
      fi
    done
    __prodguard_report+="0=${0@Q}"
  }

  __prodguard_check() {
    local __pg_line=$READLINE_LINE
    if [[ -z ${__pg_line//[[:space:]]/} ]]; then
      bind '"\C-x\C-o": accept-line'
      return
    fi
    local __pg_instead
    __prodguard_vars "$__pg_line"
    if __pg_instead=$(PRODGUARD_SHELL_VARS=$__prodguard_report "$__prodguard_bin" check --hook --guard-root-shell -- "$__pg_line" </dev/tty); then
      # A root shell (sudo -i, su -, sudo bash): run its guarded equivalent instead.
      if [[ -n $__pg_instead ]]; then
        READLINE_LINE=$__pg_instead
        READLINE_POINT=${#__pg_instead}
      fi
      __prodguard_started=${EPOCHREALTIME:-$SECONDS}
      bind '"\C-x\C-o": accept-line'
    else
      # Refused: keep the line in history and in the editing buffer, run nothing.
      history -s -- "$__pg_line"
      bind '"\C-x\C-o": redraw-current-line'
    fi
  }

  __prodguard_after() {
    local status=$?
    if [[ -n $__prodguard_started ]]; then
      local now=${EPOCHREALTIME:-$SECONDS}
      ("$__prodguard_bin" report --status "$status" --started "$__prodguard_started" --ended "$now" >/dev/null 2>&1 &)
      __prodguard_started=
    fi
    __prodguard_refresh
    printf '\033]0;%s\007' "$__prodguard_title"
    return "$status"
  }

  # In a break-glass session the segment and title carry the marker while the grant holds, so
  # they are asked again at each prompt (one round trip to the audit service); an ordinary
  # shell keeps the ones computed at start, with no process per prompt.
  __prodguard_refresh() {
    [[ -n ${PRODGUARD_BREAK_GLASS-} ]] || return 0
    local segment
    segment=$("$__prodguard_bin" prompt --shell bash 2>/dev/null) || return 0
    if [[ $segment != "$__prodguard_segment" && $PS1 == "$__prodguard_segment"* ]]; then
      PS1="${segment}${PS1#"$__prodguard_segment"}"
      __prodguard_segment=$segment
    fi
    __prodguard_title=$("$__prodguard_bin" prompt --title 2>/dev/null)
  }

  bind -x '"\C-x\C-p": __prodguard_check'
  bind '"\C-x\C-o": accept-line'
  bind '"\C-m": "\C-x\C-p\C-x\C-o"'
  bind '"\C-j": "\C-x\C-p\C-x\C-o"'

  # Recorded for the login session: its end record says whether the integration loaded.
  "$__prodguard_bin" report --integration bash >/dev/null 2>&1
  __prodguard_title=$("$__prodguard_bin" prompt --title 2>/dev/null)
  __prodguard_segment=$("$__prodguard_bin" prompt --shell bash 2>/dev/null)
  PS1="${__prodguard_segment}${PS1-}"
  if [[ $(declare -p PROMPT_COMMAND 2>/dev/null) == "declare -a"* ]]; then
    PROMPT_COMMAND=(__prodguard_after "${PROMPT_COMMAND[@]}")
  else
    # shellcheck disable=SC2128,SC2178 # the array form was handled above; this is the string form
    PROMPT_COMMAND="__prodguard_after${PROMPT_COMMAND:+; $PROMPT_COMMAND}"
  fi
fi
