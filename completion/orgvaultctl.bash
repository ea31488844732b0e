# SPDX-License-Identifier: Apache-2.0
# bash completion for orgvaultctl: verbs, options, secret names and ids, type ids.

# Runs orgvaultctl with the --org/--address already on the command line.
__orgvaultctl() {
        local i args=()
        for ((i = 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                --org=* | --address=*) args+=("${COMP_WORDS[i]}") ;;
                esac
        done
        orgvaultctl "${args[@]}" --no-pager --no-legend "$@" 2>/dev/null
}

# Display names from the table: a name may hold spaces, so it is what comes
# before the last five columns (TYPE, CREATED date, time and zone, USED BY).
__orgvaultctl_secrets() {
        local line re='^(.*[^ ]) +[^ ]+ +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [^ ]+ +[0-9]+$'
        __orgvaultctl list | while IFS= read -r line; do
                [[ $line =~ $re ]] && echo "${BASH_REMATCH[1]}"
        done
}

# Ids of the trash (NAME may hold spaces; ID is the column after it).
__orgvaultctl_trash() {
        local line re=' ([a-z0-9][a-z0-9_-]*) +[^ ]+ +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [^ ]+ +[0-9]+$'
        __orgvaultctl trash | while IFS= read -r line; do
                [[ $line =~ $re ]] && echo "${BASH_REMATCH[1]}"
        done
}

# Credential ids pam_orgvault loaded into this session's keyring (names only).
__orgvaultctl_credentials() {
        keyctl show @s 2>/dev/null | sed -n 's/.* user: orgvault:\([a-z0-9._-]*\)$/\1/p'
}

__orgvaultctl_types() {
        __orgvaultctl types | while read -r id _; do echo "$id"; done
}

_orgvaultctl() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        local verbs="list types describe-type add show refs rename update delete history rollback trash restore purge status seal unseal rotate-keys remind credential"
        local opts="--help --version --org= --address= --json= --no-legend --no-pager"
        local verb="" i n_args=0

        for ((i = 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                -*) ;;
                *) if [[ -z $verb ]]; then verb=${COMP_WORDS[i]}; else n_args=$((n_args + 1)); fi ;;
                esac
        done

        case $cur in
        --json=*)
                COMPREPLY=($(compgen -W "short pretty off" -- "${cur#--json=}"))
                return ;;
        --type=*)
                COMPREPLY=($(compgen -W "$(__orgvaultctl_types)" -- "${cur#--type=}"))
                return ;;
        -*)
                case $verb in
                list) opts+=" --type= --feature= --due --due=" ;;
                remind) opts+=" --due=" ;;
                rollback) opts+=" --yes" ;;
                types) opts+=" --feature=" ;;
                add) opts+=" --name= --id= --fields-json=- --yes --expires= --rotate-every=" ;;
                update) opts+=" --fields-json=- --yes --expires= --rotate-every=" ;;
                delete) opts+=" --force --yes" ;;
                purge) opts+=" --yes" ;;
                credential) opts+=" --force" ;;
                esac
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
                [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace
                return ;;
        esac

        if [[ -z $verb ]]; then
                COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
                return
        fi
        case $verb in
        credential)
                [[ $n_args -eq 0 ]] && COMPREPLY=($(compgen -W "$(__orgvaultctl_credentials)" -- "$cur")) ;;
        describe-type | add)
                [[ $n_args -eq 0 ]] && COMPREPLY=($(compgen -W "$(__orgvaultctl_types)" -- "$cur")) ;;
        show | refs | update | delete | rename | history | rollback)
                if [[ $n_args -eq 0 ]]; then
                        local IFS=$'\n'
                        COMPREPLY=($(compgen -W "$(__orgvaultctl_secrets)" -- "$cur"))
                        COMPREPLY=("${COMPREPLY[@]// /\\ }")
                fi ;;
        restore | purge)
                [[ $n_args -eq 0 ]] && COMPREPLY=($(compgen -W "$(__orgvaultctl_trash)" -- "$cur")) ;;
        esac
}

complete -F _orgvaultctl orgvaultctl
