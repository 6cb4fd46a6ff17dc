_prodguard() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="prodguard"
                ;;
            prodguard,approve)
                cmd="prodguard__subcmd__approve"
                ;;
            prodguard,audit)
                cmd="prodguard__subcmd__audit"
                ;;
            prodguard,banner)
                cmd="prodguard__subcmd__banner"
                ;;
            prodguard,check)
                cmd="prodguard__subcmd__check"
                ;;
            prodguard,daemon)
                cmd="prodguard__subcmd__daemon"
                ;;
            prodguard,demo)
                cmd="prodguard__subcmd__demo"
                ;;
            prodguard,deny)
                cmd="prodguard__subcmd__deny"
                ;;
            prodguard,explain)
                cmd="prodguard__subcmd__explain"
                ;;
            prodguard,generate)
                cmd="prodguard__subcmd__generate"
                ;;
            prodguard,init)
                cmd="prodguard__subcmd__init"
                ;;
            prodguard,install)
                cmd="prodguard__subcmd__install"
                ;;
            prodguard,intent)
                cmd="prodguard__subcmd__intent"
                ;;
            prodguard,policy)
                cmd="prodguard__subcmd__policy"
                ;;
            prodguard,prompt)
                cmd="prodguard__subcmd__prompt"
                ;;
            prodguard,report)
                cmd="prodguard__subcmd__report"
                ;;
            prodguard,request)
                cmd="prodguard__subcmd__request"
                ;;
            prodguard,requests)
                cmd="prodguard__subcmd__requests"
                ;;
            prodguard,sql)
                cmd="prodguard__subcmd__sql"
                ;;
            prodguard,status)
                cmd="prodguard__subcmd__status"
                ;;
            prodguard,sudo-check)
                cmd="prodguard__subcmd__sudo__subcmd__check"
                ;;
            prodguard__subcmd__audit,keygen)
                cmd="prodguard__subcmd__audit__subcmd__keygen"
                ;;
            prodguard__subcmd__audit,search)
                cmd="prodguard__subcmd__audit__subcmd__search"
                ;;
            prodguard__subcmd__audit,stats)
                cmd="prodguard__subcmd__audit__subcmd__stats"
                ;;
            prodguard__subcmd__audit,tail)
                cmd="prodguard__subcmd__audit__subcmd__tail"
                ;;
            prodguard__subcmd__audit,verify)
                cmd="prodguard__subcmd__audit__subcmd__verify"
                ;;
            prodguard__subcmd__policy,coverage)
                cmd="prodguard__subcmd__policy__subcmd__coverage"
                ;;
            prodguard__subcmd__policy,diff)
                cmd="prodguard__subcmd__policy__subcmd__diff"
                ;;
            prodguard__subcmd__policy,fmt)
                cmd="prodguard__subcmd__policy__subcmd__fmt"
                ;;
            prodguard__subcmd__policy,lint)
                cmd="prodguard__subcmd__policy__subcmd__lint"
                ;;
            prodguard__subcmd__policy,replay)
                cmd="prodguard__subcmd__policy__subcmd__replay"
                ;;
            prodguard__subcmd__policy,schema)
                cmd="prodguard__subcmd__policy__subcmd__schema"
                ;;
            prodguard__subcmd__policy,show)
                cmd="prodguard__subcmd__policy__subcmd__show"
                ;;
            prodguard__subcmd__policy,test)
                cmd="prodguard__subcmd__policy__subcmd__test"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        prodguard)
            opts="-h -V --host-file --policy-dir --audit-file --break-glass --reason --help --version check explain policy demo init intent banner prompt report request requests approve deny audit sql status install daemon generate sudo-check"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --reason)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__approve)
            opts="-h --blob --sign --decode --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --blob)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sign)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__audit)
            opts="-h --host-file --policy-dir --audit-file --help verify keygen search stats tail"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__audit__subcmd__keygen)
            opts="-h --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__audit__subcmd__search)
            opts="-h --user --host --rule --outcome --event --session --since --until --grep --unguarded --json --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outcome)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --event)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --session)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --since)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --grep)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__audit__subcmd__stats)
            opts="-h --user --host --rule --outcome --event --session --since --until --grep --unguarded --json --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --outcome)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --event)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --session)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --since)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --grep)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__audit__subcmd__tail)
            opts="-f -n -h --follow --lines --json --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --lines)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__audit__subcmd__verify)
            opts="-h --json --key --checkpoints --show-key --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --checkpoints)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__banner)
            opts="-h --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__check)
            opts="-h --json --hook --guard-root-shell --no-ask --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__daemon)
            opts="-h --socket --state-dir --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --socket)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --state-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__demo)
            opts="-v -h --verbose --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__deny)
            opts="-h --reason --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --reason)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__explain)
            opts="-h --json --stdin --now --user --ssh-from --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --now)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ssh-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__generate)
            opts="-h --host-file --policy-dir --audit-file --help man completions"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__init)
            opts="-h --host-file --policy-dir --audit-file --help bash zsh"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__install)
            opts="-h --dry-run --sudo --bin --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --bin)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__intent)
            opts="-h --reason --clear --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --reason)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__policy)
            opts="-h --host-file --policy-dir --audit-file --help lint test show replay diff coverage fmt schema"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__policy__subcmd__coverage)
            opts="-h --commands --audit --now --user --json --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --commands)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --now)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__policy__subcmd__diff)
            opts="-h --commands --audit --now --user --json --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --commands)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --now)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__policy__subcmd__fmt)
            opts="-h --check --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__policy__subcmd__lint)
            opts="-h --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__policy__subcmd__replay)
            opts="-h --audit --against --json --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --audit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --against)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__policy__subcmd__schema)
            opts="-h --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__policy__subcmd__show)
            opts="-h --json --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__policy__subcmd__test)
            opts="-v -h --rule --verbose --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --rule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__prompt)
            opts="-h --shell --title --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --shell)
                    COMPREPLY=($(compgen -W "bash zsh plain" -- "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__report)
            opts="-h --status --integration --started --ended --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --status)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --integration)
                    COMPREPLY=($(compgen -W "bash zsh" -- "${cur}"))
                    return 0
                    ;;
                --started)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ended)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__request)
            opts="-h --no-wait --blob --signature --id --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --signature)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__requests)
            opts="-h --all --json --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__sql)
            opts="-h --aliases --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --aliases)
                    COMPREPLY=($(compgen -W "bash zsh" -- "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__status)
            opts="-h --json --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        prodguard__subcmd__sudo__subcmd__check)
            opts="-h --no-ask --stdin-unseen --user --uid --runas --cwd --tty --within --host-file --policy-dir --audit-file --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --uid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --runas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cwd)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tty)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --within)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --policy-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --audit-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _prodguard -o nosort -o bashdefault -o default prodguard
else
    complete -F _prodguard -o bashdefault -o default prodguard
fi
