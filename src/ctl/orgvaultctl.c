/* SPDX-License-Identifier: Apache-2.0 */
/* orgvaultctl: the Secrets page in a terminal (man/orgvaultctl.1). This file parses
 * the command line and dispatches to a verb; the verbs live in ctl-*.c. */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "ctl-output.h"
#include "ctl.h"

/* Which verb-specific options a verb accepts. */
enum {
        OPT_TYPE = 1 << 0,
        OPT_FEATURE = 1 << 1,
        OPT_NAME = 1 << 2,
        OPT_ID = 1 << 3,
        OPT_FIELDS_JSON = 1 << 4,
        OPT_FORCE = 1 << 5,
        OPT_YES = 1 << 6,
        OPT_DUE = 1 << 7,
        OPT_EXPIRES = 1 << 8,
        OPT_ROTATE_EVERY = 1 << 9,
        _OPT_LAST = OPT_ROTATE_EVERY,
        VERB_NO_BUS = 1 << 15,   /* not an option: the verb needs no daemon, so no connection */
};

typedef struct Verb {
        const char *name;
        const char *usage;
        int min_args, max_args;
        unsigned options;
        int (*run)(Ctl *c);
} Verb;

static const Verb verbs[] = {
        { "list",          "[SEARCH] [--type=TYPE] [--feature=FEATURE] [--due[=DAYS]]", 0, 1,
          OPT_TYPE | OPT_FEATURE | OPT_DUE, verb_list },
        { "types",         "[--feature=FEATURE]",             0, 0, OPT_FEATURE,                         verb_types },
        { "describe-type", "TYPE",                            1, 1, 0,                                   verb_describe_type },
        { "add",           "[TYPE] [--name=NAME] [--id=ID] [--yes]", 0, 1, OPT_NAME | OPT_ID | OPT_FIELDS_JSON | OPT_YES | OPT_EXPIRES | OPT_ROTATE_EVERY, verb_add },
        { "show",          "SECRET",                          1, 1, 0,                                   verb_show },
        { "refs",          "SECRET",                          1, 1, 0,                                   verb_refs },
        { "rename",        "SECRET NAME",                     2, 2, 0,                                   verb_rename },
        { "update",        "SECRET [--yes]",                  1, 1, OPT_FIELDS_JSON | OPT_YES | OPT_EXPIRES | OPT_ROTATE_EVERY, verb_update },
        { "delete",        "SECRET [--force] [--yes]",        1, 1, OPT_FORCE | OPT_YES,                 verb_delete },
        { "history",       "SECRET",                          1, 1, 0,                                   verb_history },
        { "rollback",      "SECRET VERSION [--yes]",          2, 2, OPT_YES,                             verb_rollback },
        { "trash",         "",                                0, 0, 0,                                   verb_trash },
        { "restore",       "SECRET",                          1, 1, 0,                                   verb_restore },
        { "purge",         "SECRET [--yes]",                  1, 1, OPT_YES,                             verb_purge },
        { "remind",        "[--due=DAYS]",                    0, 0, OPT_DUE,                             verb_remind },
        { "status",        "",                                0, 0, 0,                                   verb_status },
        { "seal",          "",                                0, 0, 0,                                   verb_seal },
        { "unseal",        "",                                0, 0, 0,                                   verb_unseal },
        { "rotate-keys",   "",                                0, 0, 0,                                   verb_rotate_keys },
        { "credential",    "CRED-ID [--force]",               1, 1, OPT_FORCE | VERB_NO_BUS,             verb_credential },
};

static void help(void) {
        const char *h = ansi_highlight(), *n = ansi_normal();

        printf("orgvaultctl [OPTIONS...] COMMAND ...\n\n"
               "%sManage the credentials an organization keeps in orgvault.%s\n\n"
               "%sSecret Commands:%s\n"
               "  list [SEARCH]          List secrets (name contains SEARCH, any case)\n"
               "  show SECRET            Show a secret's metadata, references and last use\n"
               "  refs SECRET            List the features that use a secret\n"
               "  add [TYPE]             Add a secret: asks for each field, checks them (and\n"
               "                         asks to confirm warnings), then asks a display name\n"
               "  update SECRET          Replace a secret's value (asks like add)\n"
               "  rename SECRET NAME     Give a secret a new display name\n"
               "  delete SECRET          Move a secret to the trash after confirmation\n"
               "  history SECRET         List a secret's kept versions: when, by whom\n"
               "  rollback SECRET VERSION\n"
               "                         Make a new version with an earlier version's value\n"
               "                         (the value is never shown), after confirmation\n\n"
               "%sTrash Commands:%s\n"
               "  trash                  List deleted secrets (kept --trash-days, default 30)\n"
               "  restore SECRET         Bring a deleted secret back with its references\n"
               "  purge SECRET           Destroy a deleted secret now, after confirmation\n\n"
               "%sType Commands:%s\n"
               "  types                  List the secret types and the features using them\n"
               "  describe-type TYPE     Show a type's fields, which are secret, allowed values\n\n"
               "%sVault Commands:%s\n"
               "  status                 Show whether the vault is sealed, key mode and counts\n"
               "  seal                   Wipe the vault's keys from memory (root)\n"
               "  unseal                 Unseal a passphrase vault; asks the passphrase (root)\n"
               "  rotate-keys            Give the org a new data key and re-seal its secrets\n"
               "  remind [--due=DAYS]    Log a journal entry per secret due within DAYS days\n"
               "                         (default 14) or overdue, in every org (root)\n\n"
               "%sSession Commands:%s\n"
               "  credential CRED-ID     Print a credential pam_orgvault loaded into this\n"
               "                         session's keyring (not to a terminal without --force)\n\n"
               "%sOptions:%s\n"
               "  -h --help              Show this help\n"
               "     --version           Show package version\n"
               "     --org=ORG           Act in this organization (default: your only one)\n"
               "     --address=ADDRESS   Connect to this D-Bus address (default:\n"
               "                         $ORGVAULT_BUS_ADDRESS, else the system bus)\n"
               "     --json=short|pretty Print JSON instead of tables (--json means short)\n"
               "     --no-legend         Do not print the header and footer of tables\n"
               "     --no-pager          Do not pipe output into a pager\n"
               "     --type=TYPE         list: only secrets of this type\n"
               "     --feature=FEATURE   list, types: only types this feature uses\n"
               "     --name=NAME         add: the display name (else asked)\n"
               "     --id=ID             add: the secret's id (else derived from the name)\n"
               "     --fields-json=-|FILE\n"
               "                         add, update: read {\"field\": \"value\"} from stdin or FILE\n"
               "     --expires=DATE      add, update: remind that the value expires then\n"
               "                         (YYYY-MM-DD [HH:MM] local time, or never)\n"
               "     --rotate-every=DAYS add, update: remind to rotate the value DAYS days\n"
               "                         after it was set (0: never)\n"
               "     --due[=DAYS]        list, remind: only secrets that expire or are due\n"
               "                         for rotation within DAYS days (list: default 30),\n"
               "                         or overdue\n"
               "     --force             delete: even while features still use the secret;\n"
               "                         credential: print to a terminal too\n"
               "  -y --yes               delete, purge, rollback: do not ask for confirmation;\n"
               "                         add,\n"
               "                         update: save a value orgvaultd warns about without\n"
               "                         asking\n\n"
               "SECRET is a secret's id or its display name. Values are typed at a prompt\n"
               "with no echo, or read from standard input; never from the command line.\n"
               "See the orgvaultctl(1) man page for details and exit codes.\n",
               h, n, h, n, h, n, h, n, h, n, h, n, h, n);
}

static const char *option_name(unsigned opt) {
        switch (opt) {
        case OPT_TYPE: return "--type";
        case OPT_FEATURE: return "--feature";
        case OPT_NAME: return "--name";
        case OPT_ID: return "--id";
        case OPT_FIELDS_JSON: return "--fields-json";
        case OPT_FORCE: return "--force";
        case OPT_DUE: return "--due";
        case OPT_EXPIRES: return "--expires";
        case OPT_ROTATE_EVERY: return "--rotate-every";
        default: return "--yes";
        }
}

enum {
        ARG_VERSION = 0x100,
        ARG_ORG,
        ARG_ADDRESS,
        ARG_JSON,
        ARG_NO_LEGEND,
        ARG_NO_PAGER,
        ARG_TYPE,
        ARG_FEATURE,
        ARG_NAME,
        ARG_ID,
        ARG_FIELDS_JSON,
        ARG_FORCE,
        ARG_DUE,
        ARG_EXPIRES,
        ARG_ROTATE_EVERY,
};

/* Returns -1 to go on, else the exit code. */
static int parse_argv(Ctl *c, int argc, char *argv[], unsigned *used) {
        static const struct option options[] = {
                { "help",        no_argument,       NULL, 'h' },
                { "version",     no_argument,       NULL, ARG_VERSION },
                { "org",         required_argument, NULL, ARG_ORG },
                { "address",     required_argument, NULL, ARG_ADDRESS },
                { "json",        optional_argument, NULL, ARG_JSON },
                { "no-legend",   no_argument,       NULL, ARG_NO_LEGEND },
                { "no-pager",    no_argument,       NULL, ARG_NO_PAGER },
                { "type",        required_argument, NULL, ARG_TYPE },
                { "feature",     required_argument, NULL, ARG_FEATURE },
                { "name",        required_argument, NULL, ARG_NAME },
                { "id",          required_argument, NULL, ARG_ID },
                { "fields-json", required_argument, NULL, ARG_FIELDS_JSON },
                { "force",       no_argument,       NULL, ARG_FORCE },
                { "yes",         no_argument,       NULL, 'y' },
                { "due",         optional_argument, NULL, ARG_DUE },
                { "expires",     required_argument, NULL, ARG_EXPIRES },
                { "rotate-every", required_argument, NULL, ARG_ROTATE_EVERY },
                {}
        };
        int o;

        opterr = 0;
        while ((o = getopt_long(argc, argv, "+:hy", options, NULL)) >= 0)
                switch (o) {
                case 'h':
                        pager_open(c->pager);
                        help();
                        return CTL_EXIT_OK;
                case ARG_VERSION:
                        printf("orgvaultctl %s\n", PACKAGE_VERSION);
                        return CTL_EXIT_OK;
                case ARG_ORG:
                        c->org_arg = optarg;
                        break;
                case ARG_ADDRESS:
                        c->address = optarg;
                        break;
                case ARG_JSON:
                        if (!optarg || strcmp(optarg, "short") == 0)
                                c->json = JSON_SHORT;
                        else if (strcmp(optarg, "pretty") == 0)
                                c->json = JSON_PRETTY;
                        else if (strcmp(optarg, "off") == 0)
                                c->json = JSON_OFF;
                        else
                                return ctl_fail(CTL_EXIT_USAGE, "Unknown --json mode \"%s\": use short, pretty or off.", optarg);
                        break;
                case ARG_NO_LEGEND:
                        c->legend = false;
                        break;
                case ARG_NO_PAGER:
                        c->pager = false;
                        break;
                case ARG_TYPE:
                        c->type_filter = optarg;
                        *used |= OPT_TYPE;
                        break;
                case ARG_FEATURE:
                        c->feature_filter = optarg;
                        *used |= OPT_FEATURE;
                        break;
                case ARG_NAME:
                        c->name = optarg;
                        *used |= OPT_NAME;
                        break;
                case ARG_ID:
                        c->id = optarg;
                        *used |= OPT_ID;
                        break;
                case ARG_FIELDS_JSON:
                        c->fields_json = optarg;
                        *used |= OPT_FIELDS_JSON;
                        break;
                case ARG_FORCE:
                        c->force = true;
                        *used |= OPT_FORCE;
                        break;
                case 'y':
                        c->yes = true;
                        *used |= OPT_YES;
                        break;
                case ARG_DUE:
                        if (ctl_parse_days(optarg ?: "30", &c->due_days) < 0)
                                return ctl_fail(CTL_EXIT_USAGE, "Invalid --due=%s: expected a number of days.", optarg);
                        c->has_due = true;
                        *used |= OPT_DUE;
                        break;
                case ARG_EXPIRES:
                        if (ctl_parse_date(optarg, &c->expires) < 0)
                                return ctl_fail(CTL_EXIT_USAGE,
                                                "Invalid --expires=%s: expected YYYY-MM-DD, YYYY-MM-DD HH:MM or never.",
                                                optarg);
                        c->has_expires = true;
                        *used |= OPT_EXPIRES;
                        break;
                case ARG_ROTATE_EVERY:
                        if (ctl_parse_days(optarg, &c->rotate_every_days) < 0)
                                return ctl_fail(CTL_EXIT_USAGE, "Invalid --rotate-every=%s: expected a number of days.",
                                                optarg);
                        c->has_rotate_every = true;
                        *used |= OPT_ROTATE_EVERY;
                        break;
                case ':':
                        return ctl_fail(CTL_EXIT_USAGE, "Option %s needs a value; see 'orgvaultctl --help'.", argv[optind - 1]);
                case '?':
                        if (optopt > 0 && optopt < ARG_VERSION)
                                return ctl_fail(CTL_EXIT_USAGE, "Unknown option -%c; see 'orgvaultctl --help'.", optopt);
                        /* Only the name: what follows '=' may be a value pasted by mistake. */
                        return ctl_fail(CTL_EXIT_USAGE, "Unknown option %.*s; see 'orgvaultctl --help'.",
                                        (int) strcspn(argv[optind - 1], "="), argv[optind - 1]);
                default:
                        return ctl_fail(CTL_EXIT_USAGE, "Bad use of option %s; see 'orgvaultctl --help'.", argv[optind - 1]);
                }
        return -1;
}

int main(int argc, char *argv[]) {
        Ctl c = { .legend = true, .pager = true };
        const Verb *verb = NULL;
        unsigned used = 0;
        int r;

        setlocale(LC_ALL, "");
        json_wipe_on_free();    /* --fields-json values pass through jansson */
        output_init();
        /* Options may follow the verb, as with systemctl: let getopt permute
         * by parsing in two passes around the first non-option. */
        r = parse_argv(&c, argc, argv, &used);
        if (r >= 0)
                goto finish;
        if (optind >= argc) {
                r = ctl_fail(CTL_EXIT_USAGE, "No command given; see 'orgvaultctl --help'.");
                goto finish;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, argv[optind]) == 0)
                        verb = &verbs[i];
        if (!verb) {
                r = ctl_fail(CTL_EXIT_USAGE, "Unknown command \"%s\"; see 'orgvaultctl --help'.", argv[optind]);
                goto finish;
        }

        /* The rest: the verb's arguments mixed with options. */
        {
                int rest_argc = argc - optind;
                char **rest = argv + optind;
                _cleanup_free_ char **args = calloc((size_t) rest_argc + 1, sizeof *args);

                if (!args) {
                        r = ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                        goto finish;
                }
                optind = 0;     /* re-initialises getopt for the new vector */
                while (optind < rest_argc) {
                        r = parse_argv(&c, rest_argc, rest, &used);
                        if (r >= 0)
                                goto finish;
                        if (optind < rest_argc)
                                args[c.n_args++] = rest[optind++];
                }
                if (c.n_args < verb->min_args || c.n_args > verb->max_args) {
                        r = ctl_fail(CTL_EXIT_USAGE, "%s: usage is 'orgvaultctl %s%s%s'.",
                                     c.n_args < verb->min_args ? "Missing argument" : "Too many arguments",
                                     verb->name, *verb->usage ? " " : "", verb->usage);
                        goto finish;
                }
                for (unsigned bit = 1; bit <= _OPT_LAST; bit <<= 1)
                        if ((used & bit) && !(verb->options & bit)) {
                                r = ctl_fail(CTL_EXIT_USAGE, "Option %s does not apply to \"%s\"; see 'orgvaultctl --help'.",
                                             option_name(bit), verb->name);
                                goto finish;
                        }
                c.args = args;
                r = verb->options & VERB_NO_BUS ? 0 : ctl_connect(&c);
                if (r == 0)
                        r = verb->run(&c);
        }

finish:
        pager_close();
        free(c.org);
        sd_bus_flush_close_unref(c.bus);
        return r;
}
