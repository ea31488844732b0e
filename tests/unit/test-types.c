/* SPDX-License-Identifier: Apache-2.0 */
/* Secret types: the shipped type files against their test vectors (real
 * value shapes from the vendors' documentation, and the mistakes to catch),
 * normalisation, bounds, and the loader. */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "check-main.h"
#include "secret-types.h"

/* ---- helpers ---------------------------------------------------------- */

/* The source tree: $SOURCE_ROOT (set by meson test and tests/run), else
 * derived from this file's compile-time path next to the build dir. */
static char *source_root(void) {
        const char *env = getenv("SOURCE_ROOT");
        char exe[PATH_MAX], here[] = __FILE__;

        if (env && *env)
                return strdup(env);
        if (here[0] == '/')
                return strdup_printf("%s/../..", dirname(here));
        /* __FILE__ is relative to the build dir, which holds tests/unit/<exe>. */
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        ck_assert_int_gt(n, 0);
        exe[n] = 0;
        return strdup_printf("%s/../../%s/../..", dirname(exe), dirname(here));
}

static TypeRegistry *load_shipped(void) {
        _cleanup_free_ char *root = source_root();
        _cleanup_free_ char *policy = strdup_printf("%s/policy", root);
        _cleanup_strv_free_ char **errors = NULL;
        TypeRegistry *r = NULL;

        ck_assert_int_eq(type_registry_load(&r, policy, "/nonexistent-orgvault-config", &errors), 0);
        ck_assert_msg(!errors, "shipped type files have errors: %s", errors ? errors[0] : "");
        return r;
}

static void write_file(const char *dir, const char *name, const char *content) {
        _cleanup_free_ char *p = strdup_printf("%s/%s", dir, name);
        FILE *f = fopen(p, "we");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fputs(content, f), 0);
        ck_assert_int_eq(fclose(f), 0);
}

/* A temp dir with an empty types.d/ inside; returns the base, *ret_types_d
 * gets the types.d path. */
static char *make_temp_base(char **ret_types_d) {
        char tmpl[] = "/tmp/test-types-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(tmpl));
        *ret_types_d = strdup_printf("%s/types.d", tmpl);
        ck_assert_int_eq(mkdir(*ret_types_d, 0755), 0);
        return strdup(tmpl);
}

static void remove_temp_base(const char *base) {
        _cleanup_free_ char *cmd = strdup_printf("rm -rf '%s'", base);
        ck_assert_int_eq(system(cmd), 0);
}

static const FieldIssue *find_issue(const FieldIssue *l, size_t n, const char *field) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(l[i].field, field) == 0)
                        return &l[i];
        return NULL;
}

static bool any_issue_contains(const FieldIssue *l, size_t n, const char *field, const char *text) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(l[i].field, field) == 0 && strstr(l[i].message, text))
                        return true;
        return false;
}

/* ---- fixtures (all fake by construction) ------------------------------ */

#define TEAMS_NEW "https://default00000000000000000000000000000.00.environment.api.powerplatform.com:443" \
        "/powerautomate/automations/direct/workflows/00000000000000000000000000000000/triggers/manual"   \
        "/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0"
#define TEAMS_SIG "&sig=FAKEsignature0000000000000000000000000000000"
#define TEAMS_LEGACY "https://prod-00.westeurope.logic.azure.com:443/workflows/00000000000000000000000000000000" \
        "/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0" TEAMS_SIG
#define SLACK "https://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx"
#define TEAMS_PATH "/workflows/00000000000000000000000000000000/triggers/manual/paths/invoke" \
        "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0" TEAMS_SIG
#define TEAMS_GOV_LOGIC "https://prod-00.usgovtexas.logic.azure.us:443" TEAMS_PATH
#define TEAMS_CN_LOGIC "https://prod-00.chinaeast2.logic.azure.cn:443" TEAMS_PATH
#define TEAMS_ENV(suffix) "https://default00000000000000000000000000000.0.environment.api." suffix \
        "/powerautomate/automations/direct/workflows/00000000000000000000000000000000/triggers/manual" \
        "/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0" TEAMS_SIG
#define TEAMS_NEW_NOSCHEME "://default00000000000000000000000000000.00.environment.api.powerplatform.com:443" \
        "/powerautomate/automations/direct/workflows/00000000000000000000000000000000/triggers/manual"   \
        "/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0"
#define ZERO32 "00000000000000000000000000000000"
#define INFOBIP_KEY ZERO32 "-00000000-0000-0000-0000-000000000000"

/* One valid value per field; a vector replaces one of them. */
static const struct {
        const char *type;
        const char *fields[5][2];
} base_values[] = {
        { "teams-webhook", { { "webhook_url", TEAMS_NEW TEAMS_SIG } } },
        { "slack-webhook", { { "webhook_url", SLACK } } },
        { "openai-api-key", { { "api_key", "sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000" } } },
        { "deepseek-api-key", { { "api_key", "sk-0123456789abcdef0123456789abcdef" } } },
        { "elevenlabs-api-key", { { "api_key", "sk_000000000000000000000000000000000000000000000000" } } },
        { "openai-protocol", { { "server_url", "http://localhost:8000/v1" }, { "api_key", "token-abc123" } } },
        { "ollama", { { "server_url", "http://localhost:11434" } } },
        { "twilio-api-key",
          { { "region", "us1" },
            { "account_sid", "AC" ZERO32 },
            { "api_key_sid", "SK" ZERO32 },
            { "api_key_secret", "FAKEfakeFAKEfakeFAKEfakeFAKE0000" } } },
        { "twilio-auth-token",
          { { "region", "us1" }, { "account_sid", "AC" ZERO32 }, { "auth_token", "0123456789abcdef0123456789abcdef" } } },
        { "plivo", { { "auth_id", "MAFAKE00000000000000" }, { "auth_token", "FAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKE0000" } } },
        { "infobip",
          { { "base_url", "https://fake00.api.infobip.com" },
            { "api_key", INFOBIP_KEY },
            { "calls_configuration_id", "fake-calls-config_01" },
            { "media_stream_config_id", "000000000000000000000000" } } },
};

static json_t *base_fields(const char *type) {
        json_t *o = json_object();
        for (size_t i = 0; i < ELEMENTSOF(base_values); i++) {
                if (strcmp(base_values[i].type, type) != 0)
                        continue;
                for (size_t j = 0; j < 5 && base_values[i].fields[j][0]; j++)
                        json_object_set_new(o, base_values[i].fields[j][0], json_string(base_values[i].fields[j][1]));
                return o;
        }
        ck_abort_msg("no base values for %s", type);
        return NULL;
}

typedef struct Vector {
        const char *type, *field, *value;
        bool valid;
        const char *message;  /* part of the expected error, for reject_if cases */
} Vector;

static const Vector vectors[] = {
        /* Microsoft Teams */
        { "teams-webhook", "webhook_url", TEAMS_NEW TEAMS_SIG, true, NULL },
        { "teams-webhook", "webhook_url", TEAMS_LEGACY, true, NULL },
        { "teams-webhook", "webhook_url",
          "https://default00000000000000000000000000000.00.environment.api.powerplatform.com"
          "/powerautomate/automations/direct/cu/11/workflows/00000000000000000000000000000000/triggers/manual"
          "/paths/invoke?api-version=1" TEAMS_SIG, true, NULL },
        { "teams-webhook", "webhook_url", TEAMS_NEW, false, "does not look like a Webhook URL" },
        { "teams-webhook", "webhook_url",
          "https://prod-00.westeurope.logic.azure.com.example.net/workflows/00000000000000000000000000000000"
          "/triggers/manual/paths/invoke?sig=FAKEsignature0000000000000000000000000000000", false, NULL },
        { "teams-webhook", "webhook_url",
          "https://fake.webhook.office.com/webhookb2/00000000-0000-0000-0000-000000000000@00000000-0000-0000-0000-000000000000"
          "/IncomingWebhook/00000000000000000000000000000000/00000000-0000-0000-0000-000000000000", false, "retired" },
        /* Slack */
        { "slack-webhook", "webhook_url", SLACK, true, NULL },
        { "slack-webhook", "webhook_url", "https://hooks.slack-gov.com/services/TFAKE000000/BFAKE000000/xxxxxxxxxxxxxxxxxxxxxxxx", true, NULL },
        { "slack-webhook", "webhook_url", "https://hooks.slack.com/triggers/TFAKE00000/0000000000000/" ZERO32, true, NULL },
        { "slack-webhook", "webhook_url", "https://hooks.slack.com/services/TFAKE0000/BFAKE0000", false, NULL },
        { "slack-webhook", "webhook_url", "http://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx", false, NULL },
        { "slack-webhook", "webhook_url", "https://hooks.slack.com.example.net/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx", false, NULL },
        /* OpenAI */
        { "openai-api-key", "api_key", "sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000", true, NULL },
        { "openai-api-key", "api_key", "sk-svcacct-FAKEfakeFAKEfakeFAKEfake0000", true, NULL },
        { "openai-api-key", "api_key", "sk-ant-api03-FAKEfakeFAKEfakeFAKE", false, "Anthropic" },
        { "openai-api-key", "api_key", "sk-proj-FAKE fake", false, NULL },
        /* DeepSeek */
        { "deepseek-api-key", "api_key", "sk-" ZERO32, true, NULL },
        { "deepseek-api-key", "api_key", "sk-0123456789abcdef0123456789abcdef", true, NULL },
        { "deepseek-api-key", "api_key", "sk-proj-FAKEfakeFAKEfakeFAKEfake0000", false, "OpenAI" },
        { "deepseek-api-key", "api_key", "sk_" ZERO32, false, NULL },
        /* ElevenLabs */
        { "elevenlabs-api-key", "api_key", "sk_000000000000000000000000000000000000000000000000", true, NULL },
        { "elevenlabs-api-key", "api_key", "0123456789abcdef0123456789abcdef", true, NULL },
        { "elevenlabs-api-key", "api_key", "sk-000000000000000000000000000000000000000000000000", false, "sk_" },
        { "elevenlabs-api-key", "api_key", "sk_00000000", false, NULL },
        /* OpenAI Protocol Connection */
        { "openai-protocol", "server_url", "http://localhost:8000/v1", true, NULL },
        { "openai-protocol", "server_url", "https://llm.example.internal/openai/v1", true, NULL },
        { "openai-protocol", "server_url", "http://[::1]:1234/v1", true, NULL },
        { "openai-protocol", "server_url", "localhost:8000/v1", false, NULL },
        { "openai-protocol", "server_url", "http://user:pass@localhost:8000/v1", false, NULL },
        { "openai-protocol", "server_url", "http://localhost:8000/v1?key=FAKE", false, NULL },
        { "openai-protocol", "server_url", "http://localhost:70000/v1", false, "port" },
        { "openai-protocol", "server_url", "http://localhost:0/v1", false, "port" },
        { "openai-protocol", "api_key", "token-abc123", true, NULL },
        { "openai-protocol", "api_key", "FAKE-token-0000", true, NULL },
        { "openai-protocol", "api_key", "FAKE token", false, NULL },
        { "openai-protocol", "api_key", "FAKE\ttoken", false, NULL },
        { "openai-protocol", "api_key", "FAKE-t\xc3\xb6ken", false, NULL },  /* [[:graph:]] is ASCII in C */
        /* Ollama */
        { "ollama", "server_url", "http://localhost:11434", true, NULL },
        { "ollama", "server_url", "http://ollama.example.lan:11434/", true, NULL },
        { "ollama", "server_url", "https://gw.example.org/ollama", true, NULL },
        { "ollama", "server_url", "localhost:11434", false, NULL },
        { "ollama", "server_url", "http://localhost:port", false, NULL },
        { "ollama", "server_url", "http://localhost:65536", false, "port" },
        /* Twilio */
        { "twilio-api-key", "region", "us1", true, NULL },
        { "twilio-api-key", "region", "ie1", true, NULL },
        { "twilio-api-key", "region", "au1", true, NULL },
        { "twilio-api-key", "region", "us2", false, "one of" },
        { "twilio-auth-token", "region", "eu1", false, "one of" },
        { "twilio-api-key", "account_sid", "AC" ZERO32, true, NULL },
        { "twilio-api-key", "account_sid", "ACffffffffffffffffffffffffffffffff", true, NULL },
        { "twilio-api-key", "account_sid", "AC0000000000000000000000000000000", false, NULL },
        { "twilio-api-key", "account_sid", "SK" ZERO32, false, "API Key SID" },
        { "twilio-api-key", "api_key_sid", "SK" ZERO32, true, NULL },
        { "twilio-api-key", "api_key_sid", "SKffffffffffffffffffffffffffffffff", true, NULL },
        { "twilio-api-key", "api_key_sid", "sk" ZERO32, false, NULL },
        { "twilio-api-key", "api_key_sid", "SK0000000000000000000000000000000g", false, NULL },
        { "twilio-api-key", "api_key_secret", "FAKEfakeFAKEfakeFAKEfakeFAKE0000", true, NULL },
        { "twilio-api-key", "api_key_secret", ZERO32, true, NULL },
        { "twilio-api-key", "api_key_secret", "FAKE fake", false, NULL },
        { "twilio-api-key", "api_key_secret", "SK" ZERO32, false, "SID" },
        { "twilio-auth-token", "account_sid", "AC" ZERO32, true, NULL },
        { "twilio-auth-token", "auth_token", ZERO32, true, NULL },
        { "twilio-auth-token", "auth_token", "0123456789abcdef0123456789abcdef", true, NULL },
        { "twilio-auth-token", "auth_token", "0123456789abcdef-0123456789abcdef", false, NULL },
        { "twilio-auth-token", "auth_token", "AC" ZERO32, false, "SID" },
        /* Plivo */
        { "plivo", "auth_id", "MAFAKE00000000000000", true, NULL },
        { "plivo", "auth_id", "SAFAKE00000000000000", true, NULL },
        { "plivo", "auth_id", "MA-FAKE-00000000000", false, NULL },
        { "plivo", "auth_id", "MA00", false, NULL },
        { "plivo", "auth_token", "FAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKE0000", true, NULL },
        { "plivo", "auth_token", "0000000000000000000000000000000000000000", true, NULL },
        { "plivo", "auth_token", "FAKE fake", false, NULL },
        { "plivo", "auth_token", "MAFAKE00000000000000", false, "Auth ID" },
        /* Infobip */
        { "infobip", "base_url", "https://fake00.api.infobip.com", true, NULL },
        { "infobip", "base_url", "https://api.infobip.com", true, NULL },
        { "infobip", "base_url", "https://fake00.api.infobip.com/sms/2/text/advanced", false, "endpoint" },
        { "infobip", "base_url", "https://fake00.api.infobip.com.example.net", false, NULL },
        { "infobip", "base_url", "http://fake00.api.infobip.com", false, NULL },
        { "infobip", "api_key", INFOBIP_KEY, true, NULL },
        { "infobip", "api_key", "FAKEfakeFAKEfakeFAKE0000", true, NULL },
        { "infobip", "api_key", "App " INFOBIP_KEY, false, "App" },
        { "infobip", "api_key", "short", false, NULL },
        { "infobip", "calls_configuration_id", "fake-calls-config_01", true, NULL },
        { "infobip", "calls_configuration_id", "000000000000000000000000", true, NULL },
        { "infobip", "calls_configuration_id", "fake calls config", false, NULL },
        { "infobip", "calls_configuration_id", "fake/config", false, NULL },
        { "infobip", "media_stream_config_id", "000000000000000000000000", true, NULL },
        { "infobip", "media_stream_config_id", "fake-media-stream-cfg", true, NULL },
        { "infobip", "media_stream_config_id", "fake media cfg", false, NULL },
        { "infobip", "media_stream_config_id", "fake/cfg", false, NULL },

        /* Real vendor formats (#11): Teams on the sovereign clouds. */
        { "teams-webhook", "webhook_url", TEAMS_GOV_LOGIC, true, NULL },
        { "teams-webhook", "webhook_url", TEAMS_CN_LOGIC, true, NULL },
        { "teams-webhook", "webhook_url", TEAMS_ENV("gov.powerplatform.microsoft.us"), true, NULL },
        { "teams-webhook", "webhook_url", TEAMS_ENV("high.powerplatform.microsoft.us"), true, NULL },
        { "teams-webhook", "webhook_url", TEAMS_ENV("appsplatform.us"), true, NULL },
        { "teams-webhook", "webhook_url", TEAMS_ENV("powerplatform.partner.microsoftonline.cn"), true, NULL },
        { "teams-webhook", "webhook_url", TEAMS_ENV("powerplatform.microsoft.us.example.net"), false, NULL },
        /* Self-hosted servers: '_' (Docker service names), trailing-dot
         * names, IPv6 with a zone id; an explicit default port. */
        { "openai-protocol", "server_url", "http://my_vllm:8000/v1", true, NULL },
        { "openai-protocol", "server_url", "http://vllm_1.internal_net:8000/v1", true, NULL },
        { "openai-protocol", "server_url", "https://llm.example.internal.:8443/v1", true, NULL },
        { "openai-protocol", "server_url", "http://[fe80::1%25eth0]:8000/v1", true, NULL },
        { "openai-protocol", "server_url", "http://[fe80::1%eth0]:8000/v1", true, NULL },
        { "openai-protocol", "server_url", "http://[fe80::1%]:8000/v1", false, NULL },
        { "openai-protocol", "server_url", "http://my vllm:8000/v1", false, NULL },
        { "openai-protocol", "server_url", "http://..:8000/v1", false, NULL },
        { "ollama", "server_url", "http://my_ollama:11434", true, NULL },
        { "ollama", "server_url", "http://ollama.lan.:11434", true, NULL },
        { "ollama", "server_url", "http://[fe80::1%25enp3s0]:11434", true, NULL },
        { "infobip", "base_url", "https://fake00.api.infobip.com:443", true, NULL },
        { "infobip", "base_url", "https://fake00.api.infobip.com:443/", true, NULL },
        { "infobip", "base_url", "https://fake00.api.infobip.com:8443", false, NULL },

        /* Obvious mistakes refused and named (#11). */
        { "infobip", "base_url", "https://portal.infobip.com", false, "portal" },
        { "infobip", "base_url", "https://www.infobip.com", false, "website" },
        { "infobip", "base_url", "https://infobip.com/", false, "website" },
        { "infobip", "base_url", "https://portal.infobip.com/homepage/", false, "base URL" },
        { "infobip", "base_url", "http://fake00.api.infobip.com", false, "https://" },
        { "ollama", "server_url", "https://ollama.com", false, "openai-protocol" },
        { "ollama", "server_url", "https://ollama.com/api", false, "API key" },
        { "ollama", "server_url", "https://www.ollama.com/", false, "hosted" },
        { "ollama", "server_url", "http://ollama.company.lan:11434", true, NULL },
        { "openai-api-key", "api_key", "\"sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000\"", false, "quotes" },
        { "openai-api-key", "api_key", "'sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000'", false, "quotes" },
        { "openai-api-key", "api_key", "\xe2\x80\x9csk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000\xe2\x80\x9d", false, "quotes" },
        { "openai-api-key", "api_key", "Bearer sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000", false, "Bearer" },
        { "openai-protocol", "api_key", "bearer FAKE-token-0000", false, "Bearer" },
        { "openai-protocol", "api_key", "Authorization: Bearer FAKE-token-0000", false, "header" },
        { "openai-api-key", "api_key", "OPENAI_API_KEY=sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000", false, "assignment" },
        { "openai-api-key", "api_key", "export OPENAI_API_KEY=sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000", false, "assignment" },
        { "slack-webhook", "webhook_url", "SLACK_WEBHOOK_URL=" SLACK, false, "assignment" },
        { "openai-protocol", "api_key", "FAKE_TOKEN_0000=", true, NULL },
        { "openai-api-key", "api_key", "sk-proj-FAKEfake\xc2\xa0" "FAKEfake_FAKE-fakeFAKEfake0000", false,
          "U+00A0 NO-BREAK SPACE, at character 17" },
        { "openai-api-key", "api_key", "sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000\xe2\x80\x8b", false,
          "U+200B ZERO WIDTH SPACE, at character 47" },
        { "slack-webhook", "webhook_url", "\xef\xbb\xbf" SLACK, false, "U+FEFF" },
        { "infobip", "calls_configuration_id", "fake-calls\xe2\x81\xa0" "config", false, "WORD JOINER, at character 11" },
        { "teams-webhook", "webhook_url", SLACK, false, "this is a Slack webhook URL; use the slack-webhook type" },
        { "slack-webhook", "webhook_url", TEAMS_NEW TEAMS_SIG, false, "this is a Microsoft Teams webhook URL; use the teams-webhook type" },
        { "slack-webhook", "webhook_url", TEAMS_LEGACY, false, "teams-webhook type" },
        { "slack-webhook", "webhook_url", "http://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx", false,
          "must start with https://" },
        { "teams-webhook", "webhook_url", "http" TEAMS_NEW_NOSCHEME TEAMS_SIG, false, "must start with https://" },
        { "slack-webhook", "webhook_url", "sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000", false, "is not a URL: expected https://hooks.slack.com" },
        { "ollama", "server_url", "localhost:11434", false, "is not a URL" },
};

/* Validates the type's base values with one field replaced. */
static int validate_with(const TypeRegistry *r, const char *type, const char *field, json_t *value,
                         ValidationResult *res) {
        const SecretType *t = type_registry_find(r, type);
        _cleanup_json_ json_t *fields = base_fields(type);

        ck_assert_msg(t, "type %s not loaded", type);
        if (field)
                json_object_set_new(fields, field, value);
        return secret_type_validate(t, fields, res);
}

START_TEST(test_vector) {
        const Vector *v = &vectors[_i];
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        ValidationResult res;

        ck_assert_int_eq(validate_with(r, v->type, v->field, json_string(v->value), &res), 0);
        if (v->valid) {
                ck_assert_msg(res.n_errors == 0, "%s.%s: valid vector #%d rejected: %s", v->type, v->field, _i,
                              res.n_errors ? res.errors[0].message : "");
                ck_assert_ptr_nonnull(res.normalized);
                ck_assert_ptr_nonnull(json_object_get(res.normalized, v->field));
        } else {
                const FieldIssue *e = find_issue(res.errors, res.n_errors, v->field);
                ck_assert_msg(e, "%s.%s: invalid vector #%d accepted", v->type, v->field, _i);
                ck_assert_uint_eq(res.n_errors, 1);
                ck_assert_ptr_null(res.normalized);
                if (v->message)
                        ck_assert_msg(strstr(e->message, v->message), "%s.%s #%d: message \"%s\" lacks \"%s\"",
                                      v->type, v->field, _i, e->message, v->message);
        }
        validation_result_clear(&res);
}
END_TEST

/* ---- normalisation ---------------------------------------------------- */

static char *normalised(const TypeRegistry *r, const char *type, const char *field, const char *value) {
        ValidationResult res;
        char *out;

        ck_assert_int_eq(validate_with(r, type, field, json_string(value), &res), 0);
        ck_assert_msg(res.n_errors == 0, "%s rejected: %s", value, res.n_errors ? res.errors[0].message : "");
        json_t *v = json_object_get(res.normalized, field);
        out = v ? strdup(json_string_value(v)) : NULL;
        validation_result_clear(&res);
        return out;
}

START_TEST(test_normalise_url_scheme_and_host_only) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        _cleanup_free_ char *slack = normalised(r, "slack-webhook", "webhook_url",
                                                "HTTPS://HOOKS.Slack.COM/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx");
        _cleanup_free_ char *proto = normalised(r, "openai-protocol", "server_url", "HTTP://LLM.Example.Internal:8000/OpenAI/v1");
        _cleanup_free_ char *ollama = normalised(r, "ollama", "server_url", "http://LocalHost:11434/");
        _cleanup_free_ char *infobip = normalised(r, "infobip", "base_url", "https://Fake00.API.infobip.com/");

        ck_assert_str_eq(slack, SLACK);
        ck_assert_str_eq(proto, "http://llm.example.internal:8000/OpenAI/v1");
        ck_assert_str_eq(ollama, "http://localhost:11434");
        ck_assert_str_eq(infobip, "https://fake00.api.infobip.com");

        /* An IPv6 zone id names an interface, whose name keeps its case. */
        _cleanup_free_ char *zone = normalised(r, "ollama", "server_url", "HTTP://[FE80::1%25Eth0]:11434/");
        ck_assert_str_eq(zone, "http://[fe80::1%25Eth0]:11434");
}
END_TEST

START_TEST(test_normalise_enum_and_trim) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        _cleanup_free_ char *region = normalised(r, "twilio-auth-token", "region", "US1");
        _cleanup_free_ char *region2 = normalised(r, "twilio-api-key", "region", " Ie1\n");
        _cleanup_free_ char *key = normalised(r, "deepseek-api-key", "api_key", "  sk-0123456789abcdef0123456789abcdef\r\n");
        _cleanup_free_ char *sid = normalised(r, "twilio-api-key", "account_sid", "\tACffffffffffffffffffffffffffffffff ");
        _cleanup_free_ char *upper_sid = normalised(r, "twilio-api-key", "account_sid", "ACFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");

        ck_assert_str_eq(region, "us1");
        ck_assert_str_eq(region2, "ie1");
        ck_assert_str_eq(key, "sk-0123456789abcdef0123456789abcdef");
        ck_assert_str_eq(sid, "ACffffffffffffffffffffffffffffffff");
        ck_assert_str_eq(upper_sid, "ACFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");  /* IDs keep their case */
}
END_TEST

/* ---- warnings (soft checks) ------------------------------------------- */

static void expect_warning(const TypeRegistry *r, const char *type, const char *field, const char *value,
                           const char *text) {
        ValidationResult res;

        ck_assert_int_eq(validate_with(r, type, field, json_string(value), &res), 0);
        ck_assert_uint_eq(res.n_errors, 0);
        ck_assert_ptr_nonnull(res.normalized);
        ck_assert_msg(any_issue_contains(res.warnings, res.n_warnings, field, text), "%s.%s: no warning with \"%s\"",
                      type, field, text);
        validation_result_clear(&res);
}

START_TEST(test_soft_checks_warn) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();

        /* A DeepSeek-shaped key in the OpenAI field passes the hard pattern but not the hint. */
        expect_warning(r, "openai-api-key", "api_key", "sk-" ZERO32, "OpenAI");
        expect_warning(r, "openai-api-key", "api_key", "sk-admin-FAKEfakeFAKEfakeFAKEfake0000", "admin");
        expect_warning(r, "teams-webhook", "webhook_url", TEAMS_LEGACY, "Nov 2025");
        expect_warning(r, "infobip", "base_url", "https://api.infobip.com", "shared");
        expect_warning(r, "ollama", "server_url", "http://localhost:11434/api", "/api");
        expect_warning(r, "openai-protocol", "server_url", "http://localhost:8000/v1/chat/completions", "endpoint");
        expect_warning(r, "openai-protocol", "server_url", "https://gw.example.org/openai", "/v1");
        expect_warning(r, "infobip", "media_stream_config_id", "fake-media-stream-cfg", "24");
}
END_TEST

START_TEST(test_exact_shapes_do_not_warn) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();

        for (size_t i = 0; i < ELEMENTSOF(base_values); i++) {
                ValidationResult res;
                /* the OpenAI fake lacks the real key marker on purpose, so it warns */
                if (strcmp(base_values[i].type, "openai-api-key") == 0)
                        continue;
                ck_assert_int_eq(validate_with(r, base_values[i].type, NULL, NULL, &res), 0);
                ck_assert_uint_eq(res.n_errors, 0);
                ck_assert_msg(res.n_warnings == 0, "%s warns: %s", base_values[i].type,
                              res.n_warnings ? res.warnings[0].message : "");
                validation_result_clear(&res);
        }
}
END_TEST

/* ---- field set and bounds --------------------------------------------- */

START_TEST(test_unknown_field) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        ValidationResult res;

        ck_assert_int_eq(validate_with(r, "slack-webhook", "channel", json_string("general"), &res), 0);
        ck_assert_uint_eq(res.n_errors, 1);
        ck_assert_str_eq(res.errors[0].field, "channel");
        ck_assert_ptr_nonnull(strstr(res.errors[0].message, "unknown field"));
        ck_assert_ptr_null(res.normalized);
        validation_result_clear(&res);
}
END_TEST

START_TEST(test_missing_required) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        const SecretType *t = type_registry_find(r, "twilio-auth-token");
        _cleanup_json_ json_t *fields = base_fields("twilio-auth-token");
        ValidationResult res;

        json_object_del(fields, "auth_token");
        json_object_set_new(fields, "account_sid", json_string("   "));
        ck_assert_int_eq(secret_type_validate(t, fields, &res), 0);
        ck_assert_uint_eq(res.n_errors, 2);
        ck_assert(any_issue_contains(res.errors, res.n_errors, "auth_token", "required"));
        ck_assert(any_issue_contains(res.errors, res.n_errors, "account_sid", "required"));

        _cleanup_free_ char *s = validation_errors_to_string(&res);
        ck_assert_str_eq(s, "account_sid: Account SID is required; auth_token: Auth Token is required");
        validation_result_clear(&res);
}
END_TEST

START_TEST(test_optional_api_key) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        const SecretType *t = type_registry_find(r, "openai-protocol");
        ValidationResult res;
        json_t *only_url = json_pack("{ss}", "server_url", "http://localhost:8000/v1");
        json_t *blank_key = json_pack("{ssss}", "server_url", "http://localhost:8000/v1", "api_key", "  ");

        ck_assert(!secret_type_field(t, "api_key")->required);
        ck_assert_int_eq(secret_type_validate(t, only_url, &res), 0);
        ck_assert_uint_eq(res.n_errors, 0);
        ck_assert_ptr_null(json_object_get(res.normalized, "api_key"));
        validation_result_clear(&res);

        ck_assert_int_eq(secret_type_validate(t, blank_key, &res), 0);
        ck_assert_uint_eq(res.n_errors, 0);
        ck_assert_uint_eq(json_object_size(res.normalized), 1);
        validation_result_clear(&res);
        json_decref(only_url);
        json_decref(blank_key);
}
END_TEST

START_TEST(test_oversize_field) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        _cleanup_free_ char *big = malloc(OV_FIELD_MAX + 2);
        ValidationResult res;

        memset(big, 'a', OV_FIELD_MAX + 1);
        memcpy(big, "sk-", 3);
        big[OV_FIELD_MAX + 1] = 0;
        ck_assert_int_eq(validate_with(r, "deepseek-api-key", "api_key", json_string(big), &res), 0);
        ck_assert_uint_eq(res.n_errors, 1);
        ck_assert_str_eq(res.errors[0].field, "api_key");
        ck_assert_ptr_nonnull(strstr(res.errors[0].message, "longer"));
        validation_result_clear(&res);
}
END_TEST

START_TEST(test_too_many_and_too_large) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        const SecretType *t = type_registry_find(r, "slack-webhook");
        _cleanup_json_ json_t *many = base_fields("slack-webhook");
        _cleanup_json_ json_t *large = base_fields("slack-webhook");
        _cleanup_free_ char *chunk = malloc(8001);
        ValidationResult res;

        for (int i = 0; i < OV_FIELDS_MAX; i++) {
                char name[16];
                snprintf(name, sizeof name, "extra%d", i);
                json_object_set_new(many, name, json_string("x"));
        }
        ck_assert_int_eq(secret_type_validate(t, many, &res), 0);
        ck_assert_uint_eq(res.n_errors, 1);
        ck_assert_str_eq(res.errors[0].field, "");
        ck_assert_ptr_nonnull(strstr(res.errors[0].message, "too many"));
        validation_result_clear(&res);

        memset(chunk, 'x', 8000);
        chunk[8000] = 0;
        for (int i = 0; i < 9; i++) {
                char name[16];
                snprintf(name, sizeof name, "extra%d", i);
                json_object_set_new(large, name, json_string(chunk));
        }
        ck_assert_int_eq(secret_type_validate(t, large, &res), 0);
        ck_assert_ptr_nonnull(find_issue(res.errors, res.n_errors, ""));
        ck_assert(any_issue_contains(res.errors, res.n_errors, "", "bytes in all"));
        validation_result_clear(&res);
}
END_TEST

START_TEST(test_bad_text) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        static const char *const bad[] = {
                "sk-0123456789abcdef\x01" "0123456789abcdef",  /* C0 control */
                "sk-0123456789abcdef\x7f" "0123456789abcdef",  /* DEL */
                "sk-0123456789abcdef\xc2\x85" "0123456789abcdef",  /* C1 control */
                "sk-0123456789abcdef\xff\xfe" "0123456789abcdef",  /* not UTF-8 */
                "sk-0123456789abcdef\xc0\xaf" "0123456789abcdef",  /* overlong */
        };
        ValidationResult res;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ck_assert_int_eq(validate_with(r, "deepseek-api-key", "api_key", json_string_nocheck(bad[i]), &res), 0);
                ck_assert_msg(res.n_errors == 1, "bad text #%zu accepted", i);
                ck_assert_ptr_nonnull(strstr(res.errors[0].message, "control characters"));
                validation_result_clear(&res);
        }
        /* an embedded NUL */
        ck_assert_int_eq(validate_with(r, "deepseek-api-key", "api_key",
                                       json_stringn_nocheck("sk-0123456789abcdef\0" "0123456789abcdef", 35), &res), 0);
        ck_assert_uint_eq(res.n_errors, 1);
        ck_assert_str_eq(res.errors[0].field, "api_key");
        validation_result_clear(&res);
}
END_TEST

START_TEST(test_non_string_values) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        const SecretType *t = type_registry_find(r, "slack-webhook");
        _cleanup_json_ json_t *array = json_array();
        ValidationResult res;

        ck_assert_int_eq(validate_with(r, "plivo", "auth_id", json_integer(12345), &res), 0);
        ck_assert_uint_eq(res.n_errors, 1);
        ck_assert_str_eq(res.errors[0].field, "auth_id");
        ck_assert_ptr_nonnull(strstr(res.errors[0].message, "string"));
        validation_result_clear(&res);

        ck_assert_int_eq(validate_with(r, "plivo", "auth_token", json_null(), &res), 0);
        ck_assert_ptr_nonnull(find_issue(res.errors, res.n_errors, "auth_token"));
        validation_result_clear(&res);

        ck_assert_int_eq(secret_type_validate(t, array, &res), 0);
        ck_assert_uint_eq(res.n_errors, 1);
        ck_assert_str_eq(res.errors[0].field, "");
        _cleanup_free_ char *s = validation_errors_to_string(&res);
        ck_assert_str_eq(s, "the fields must be a JSON object");
        validation_result_clear(&res);
}
END_TEST

/* ---- loader ------------------------------------------------------------ */

/* The contract table of docs/TYPES.md. */
static const struct {
        const char *id, *category, *used_by, *fields;  /* fields: "id" or "id?" when optional */
} contract[] = {
        { "deepseek-api-key", "ai", "news,ai", "api_key" },
        { "elevenlabs-api-key", "ai", "call-center-surveys", "api_key" },
        { "infobip", "telephony", "call-center-surveys", "base_url,api_key,calls_configuration_id,media_stream_config_id" },
        { "ollama", "ai", "ai", "server_url" },
        { "openai-api-key", "ai", "news,surveys,ai", "api_key" },
        { "openai-protocol", "ai", "ai", "server_url,api_key?" },
        { "plivo", "telephony", "call-center-surveys", "auth_id,auth_token" },
        { "slack-webhook", "notification", "alerts", "webhook_url" },
        { "teams-webhook", "notification", "alerts", "webhook_url" },
        { "twilio-api-key", "telephony", "call-center-surveys", "region,account_sid,api_key_sid,api_key_secret" },
        { "twilio-auth-token", "telephony", "call-center-surveys", "region,account_sid,auth_token" },
};

static char *join(char *const *l) {
        _cleanup_free_ char *s = strdup("");
        for (char *const *p = l; p && *p; p++) {
                char *n = strdup_printf("%s%s%s", s, s[0] ? "," : "", *p);
                free(s);
                s = n;
        }
        char *ret = s;
        s = NULL;
        return ret;
}

START_TEST(test_load_shipped_contract) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();

        ck_assert_uint_eq(r->n_types, ELEMENTSOF(contract));
        for (size_t i = 0; i < r->n_types; i++) {
                const SecretType *t = r->types[i];
                _cleanup_free_ char *used_by = join(t->used_by);
                _cleanup_strv_free_ char **fields = NULL;
                _cleanup_free_ char *fl = NULL;

                ck_assert_str_eq(t->id, contract[i].id);  /* sorted by id */
                ck_assert_ptr_eq(type_registry_find(r, t->id), t);
                ck_assert_str_eq(t->category, contract[i].category);
                ck_assert_str_eq(used_by, contract[i].used_by);
                for (size_t j = 0; j < t->n_fields; j++) {
                        _cleanup_free_ char *f = strdup_printf("%s%s", t->fields[j].id, t->fields[j].required ? "" : "?");
                        ck_assert_int_eq(strv_push(&fields, f), 0);
                        ck_assert(t->fields[j].kind != FIELD_SECRET || t->fields[j].secret);
                        ck_assert(t->fields[j].label[0]);
                }
                fl = join(fields);
                ck_assert_str_eq(fl, contract[i].fields);
                ck_assert_ptr_nonnull(strstr(t->source, "/policy/types.d/"));
        }
        ck_assert_ptr_null(type_registry_find(r, "no-such-type"));
        ck_assert_str_eq(type_registry_find(r, "slack-webhook")->name, "Slack Webhook URL");
}
END_TEST

START_TEST(test_field_details) {
        _cleanup_(type_registry_freep) TypeRegistry *r = load_shipped();
        const SecretType *tw = type_registry_find(r, "twilio-api-key");
        const SecretType *slack = type_registry_find(r, "slack-webhook");
        const SecretType *plivo = type_registry_find(r, "plivo");
        const SecretType *infobip = type_registry_find(r, "infobip");
        const TypeField *region = secret_type_field(tw, "region");

        ck_assert_int_eq(region->kind, FIELD_ENUM);
        ck_assert_str_eq(field_kind_to_string(region->kind), "enum");
        ck_assert_uint_eq(strv_length(region->allowed), 3);
        ck_assert(strv_contains(region->allowed, "au1"));
        ck_assert_str_eq(secret_type_field(tw, "api_key_sid")->label, "API Key SID");
        ck_assert(!secret_type_field(tw, "api_key_sid")->secret);
        ck_assert(secret_type_field(slack, "webhook_url")->secret);
        ck_assert_int_eq(secret_type_field(plivo, "auth_id")->kind, FIELD_TEXT);
        ck_assert(!secret_type_field(plivo, "auth_id")->secret);
        ck_assert(!secret_type_field(infobip, "base_url")->secret);
        ck_assert_ptr_null(secret_type_field(slack, "api_key"));
        ck_assert(secret_type_used_by(tw, "call-center-surveys"));
        ck_assert(!secret_type_used_by(tw, "alerts"));
        ck_assert(strv_length(tw->notes) > 0);
        bool us1_note = false;
        for (char **n = tw->notes; *n; n++)
                us1_note = us1_note || (strstr(*n, "US1") && strstr(*n, "Verified Caller ID"));
        ck_assert(us1_note);
        ck_assert_str_eq(field_kind_to_string(FIELD_URL), "url");
        ck_assert_str_eq(field_kind_to_string(FIELD_SECRET), "secret");
        ck_assert_str_eq(field_kind_to_string(FIELD_TEXT), "text");
}
END_TEST

#define MINIMAL_TYPE(id, name) \
        "{\"id\": \"" id "\", \"name\": \"" name "\", \"category\": \"ai\", \"used_by\": [\"ai\"], " \
        "\"fields\": [{\"id\": \"api_key\", \"label\": \"API Key\", \"kind\": \"secret\", "         \
        "\"required\": true, \"secret\": true, \"pattern\": \"^[a-z]+$\"}]}"

START_TEST(test_config_dir_overrides_by_id) {
        _cleanup_free_ char *root = source_root();
        _cleanup_free_ char *policy = strdup_printf("%s/policy", root);
        _cleanup_free_ char *types_d = NULL;
        _cleanup_free_ char *config = make_temp_base(&types_d);
        _cleanup_(type_registry_freep) TypeRegistry *r = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        ValidationResult res;

        write_file(types_d, "my-slack.json", MINIMAL_TYPE("slack-webhook", "Local Slack"));
        write_file(types_d, "zz-local.json", MINIMAL_TYPE("aa-local", "Local Thing"));
        write_file(types_d, "README", "not a type file");
        ck_assert_int_eq(type_registry_load(&r, policy, config, &errors), 0);
        ck_assert_ptr_null(errors);
        ck_assert_uint_eq(r->n_types, 12);
        ck_assert_str_eq(r->types[0]->id, "aa-local");
        for (size_t i = 1; i < r->n_types; i++)
                ck_assert_int_lt(strcmp(r->types[i - 1]->id, r->types[i]->id), 0);

        const SecretType *t = type_registry_find(r, "slack-webhook");
        ck_assert_str_eq(t->name, "Local Slack");
        ck_assert_ptr_nonnull(strstr(t->source, config));
        _cleanup_json_ json_t *f = json_pack("{ss}", "api_key", "abc");
        ck_assert_int_eq(secret_type_validate(t, f, &res), 0);
        ck_assert_uint_eq(res.n_errors, 0);
        validation_result_clear(&res);
        remove_temp_base(config);
}
END_TEST

static const struct {
        const char *name, *content, *problem;
} malformed[] = {
        { "bad-json.json", "{\"id\": \"x\",", "bad JSON" },
        { "not-object.json", "[1, 2]", "JSON object" },
        { "missing-name.json",
          "{\"id\": \"missing-name\", \"category\": \"ai\", \"used_by\": [], \"fields\": []}", "missing key \"name\"" },
        { "ill-typed.json",
          "{\"id\": \"ill-typed\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"k\", \"label\": \"K\", \"kind\": \"text\", \"required\": \"yes\", \"secret\": false}]}",
          "\"required\" must be true or false" },
        { "bad-regex.json",
          "{\"id\": \"bad-regex\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"k\", \"label\": \"K\", \"kind\": \"text\", \"required\": true, \"secret\": false, \"pattern\": \"^[a-\"}]}",
          "bad regular expression" },
        { "bad-rule-regex.json",
          "{\"id\": \"bad-rule-regex\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"k\", \"label\": \"K\", \"kind\": \"text\", \"required\": true, \"secret\": false, \"hints\": "
          "[{\"pattern\": \"(a\", \"message\": \"m\"}]}]}",
          "hints[0]: bad regular expression" },
        /* glibc's regcomp would take seconds and gigabytes on these (fuzz-type-file). */
        { "nested-repetition.json",
          "{\"id\": \"nested-repetition\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"k\", \"label\": \"K\", \"kind\": \"text\", \"required\": true, \"secret\": false, \"pattern\": "
          "\"((a{255}){255}){255}\"}]}",
          "pattern too complex" },
        { "wide-repetition.json",
          "{\"id\": \"wide-repetition\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"k\", \"label\": \"K\", \"kind\": \"text\", \"required\": true, \"secret\": false, \"warn_if\": "
          "[{\"pattern\": \"A{0,32767}C\", \"message\": \"m\"}]}]}",
          "warn_if[0]: pattern too complex" },
        /* Not regular: glibc backtracks, 38 s of CPU for one 1,000-byte value. */
        { "back-reference.json",
          "{\"id\": \"back-reference\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"token\", \"label\": \"K\", \"kind\": \"text\", \"required\": true, \"secret\": false, \"pattern\": "
          "\"^(a*)*\\\\1c$\"}]}",
          "field \"token\": pattern: back-references (\\1 to \\9) are not allowed" },
        { "back-reference-hint.json",
          "{\"id\": \"back-reference-hint\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"k\", \"label\": \"K\", \"kind\": \"text\", \"required\": true, \"secret\": false, \"hints\": "
          "[{\"pattern\": \"^x(y)[\\\\1]\\\\1$\", \"message\": \"m\"}]}]}",
          "hints[0]: back-references" },
        { "unknown-kind.json",
          "{\"id\": \"unknown-kind\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"k\", \"label\": \"K\", \"kind\": \"password\", \"required\": true, \"secret\": true}]}",
          "unknown kind \"password\"" },
        { "dup-field.json",
          "{\"id\": \"dup-field\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": ["
          "{\"id\": \"k\", \"label\": \"K\", \"kind\": \"text\", \"required\": true, \"secret\": false},"
          "{\"id\": \"k\", \"label\": \"K2\", \"kind\": \"text\", \"required\": true, \"secret\": false}]}",
          "duplicate field id \"k\"" },
        { "bad-id.json", MINIMAL_TYPE("Bad_Id", "X"), "invalid type id \"Bad_Id\"" },
        { "unknown-key.json",
          "{\"id\": \"unknown-key\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"k\", \"label\": \"K\", \"kind\": \"text\", \"required\": true, \"secret\": false, \"hint\": \"x\"}]}",
          "unknown key \"hint\"" },
        { "enum-no-allowed.json",
          "{\"id\": \"enum-no-allowed\", \"name\": \"X\", \"category\": \"ai\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"k\", \"label\": \"K\", \"kind\": \"enum\", \"required\": true, \"secret\": false}]}",
          "needs \"allowed\"" },
        { "bad-category.json",
          "{\"id\": \"bad-category\", \"name\": \"X\", \"category\": \"misc\", \"used_by\": [\"ai\"], \"fields\": [{\"id\": "
          "\"k\", \"label\": \"K\", \"kind\": \"text\", \"required\": true, \"secret\": false}]}",
          "unknown category" },
};

START_TEST(test_malformed_file) {
        _cleanup_free_ char *types_d = NULL;
        _cleanup_free_ char *base = make_temp_base(&types_d);
        _cleanup_free_ char *path = strdup_printf("%s/%s", types_d, malformed[_i].name);
        SecretType *t = NULL;
        _cleanup_free_ char *error = NULL;

        write_file(types_d, malformed[_i].name, malformed[_i].content);
        ck_assert_int_eq(secret_type_load_file(path, &t, &error), -EINVAL);
        ck_assert_ptr_null(t);
        ck_assert_ptr_nonnull(error);
        ck_assert_msg(strncmp(error, path, strlen(path)) == 0, "\"%s\" does not name the file", error);
        ck_assert_msg(strstr(error, malformed[_i].problem), "\"%s\" lacks \"%s\"", error, malformed[_i].problem);
        remove_temp_base(base);
}
END_TEST

START_TEST(test_malformed_skipped_others_load) {
        _cleanup_free_ char *types_d = NULL;
        _cleanup_free_ char *base = make_temp_base(&types_d);
        _cleanup_(type_registry_freep) TypeRegistry *r = NULL;
        _cleanup_strv_free_ char **errors = NULL;

        write_file(types_d, "a-good.json", MINIMAL_TYPE("good-one", "Good"));
        for (size_t i = 0; i < ELEMENTSOF(malformed); i++)
                write_file(types_d, malformed[i].name, malformed[i].content);
        write_file(types_d, "z-dup.json", MINIMAL_TYPE("good-one", "Again"));
        ck_assert_int_eq(type_registry_load(&r, base, NULL, &errors), 0);
        ck_assert_uint_eq(r->n_types, 1);
        ck_assert_str_eq(r->types[0]->name, "Good");
        ck_assert_uint_eq(strv_length(errors), ELEMENTSOF(malformed) + 1);
        for (size_t i = 0; i < ELEMENTSOF(malformed); i++) {
                bool found = false;
                for (char **e = errors; *e; e++)
                        found = found || (strstr(*e, malformed[i].name) && strstr(*e, malformed[i].problem));
                ck_assert_msg(found, "no error for %s", malformed[i].name);
        }
        bool dup = false;
        for (char **e = errors; *e; e++)
                dup = dup || (strstr(*e, "z-dup.json") && strstr(*e, "duplicate type id"));
        ck_assert(dup);
        remove_temp_base(base);
}
END_TEST

START_TEST(test_missing_dirs) {
        _cleanup_(type_registry_freep) TypeRegistry *r = NULL;
        _cleanup_strv_free_ char **errors = NULL;

        ck_assert_int_eq(type_registry_load(&r, "/nonexistent-a", "/nonexistent-b", &errors), 0);
        ck_assert_uint_eq(r->n_types, 0);
        ck_assert_ptr_null(errors);
        ck_assert_ptr_null(type_registry_find(r, "slack-webhook"));
}
END_TEST

/* The start-up check compiles each pattern with its counts cut to at most
 * 1 (regex_check_form): regcomp() must accept or refuse that form exactly
 * as it does the pattern, with the same error. */
static const struct {
        const char *pattern, *form;
} check_forms[] = {
        { "^sk-[A-Za-z0-9_-]{20,300}$", "^sk-[A-Za-z0-9_-]{1,1}$" },
        { "^[0-9a-f]{32}-[0-9a-f]{8}$", "^[0-9a-f]{1}-[0-9a-f]{1}$" },
        { "a{0,8}b{0}c{0,0}d{2,}e{0,}", "a{0,1}b{0}c{0}d{1,}e{0,}" },
        { "[{]{3}x\\{3}", "[{]{1}x\\{3}" },             /* in brackets or escaped: literal */
        { "[]{]{4}[^]{]{5}", "[]{]{1}[^]{]{1}" },
        { "a{3,2}", "a{3,2}" },                         /* refused: left for regcomp to say so */
        { "a{32768}", "a{32768}" },
        { "a{1,32768}", "a{1,32768}" },
        { "a{,3}", "a{,3}" },
        { "a{2", "a{2" },
        { "a{x}", "a{x}" },
        { "{2}a", "{1}a" },
        { "(a{2}", "(a{1}" },
        { "a{2}{3}", "a{1}{1}" },
        { "(ab|c{2,5})+{2}", "(ab|c{1,1})+{1}" },
        { "[a-", "[a-" },
        { "x[[:alpha:]{]{2,3}", "x[[:alpha:]{]{1,1}" },
        { "^https?://([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\\.)*\\.?(:[0-9]{1,5})?$",
          "^https?://([a-z0-9_]([a-z0-9_-]{0,1}[a-z0-9_])?\\.)*\\.?(:[0-9]{1,1})?$" },
};

START_TEST(test_check_form_agrees) {
        const char *pattern = check_forms[_i].pattern;
        _cleanup_free_ char *form = regex_check_form(pattern);
        regex_t a, b;

        ck_assert_ptr_nonnull(form);
        ck_assert_str_eq(form, check_forms[_i].form);
        int ra = regcomp(&a, pattern, REG_EXTENDED | REG_NOSUB), rb = regcomp(&b, form, REG_EXTENDED | REG_NOSUB);
        ck_assert_msg(ra == rb, "%s: regcomp %d, its check form %s: %d", pattern, ra, form, rb);
        if (ra == 0)
                regfree(&a);
        if (rb == 0)
                regfree(&b);
}
END_TEST

static Suite *types_suite(void) {
        Suite *s = suite_create("types");
        TCase *tc = tcase_create("vectors");
        tcase_add_loop_test(tc, test_vector, 0, (int) ELEMENTSOF(vectors));
        suite_add_tcase(s, tc);

        tc = tcase_create("validate");
        tcase_add_test(tc, test_normalise_url_scheme_and_host_only);
        tcase_add_test(tc, test_normalise_enum_and_trim);
        tcase_add_test(tc, test_soft_checks_warn);
        tcase_add_test(tc, test_exact_shapes_do_not_warn);
        tcase_add_test(tc, test_unknown_field);
        tcase_add_test(tc, test_missing_required);
        tcase_add_test(tc, test_optional_api_key);
        tcase_add_test(tc, test_oversize_field);
        tcase_add_test(tc, test_too_many_and_too_large);
        tcase_add_test(tc, test_bad_text);
        tcase_add_test(tc, test_non_string_values);
        suite_add_tcase(s, tc);

        tc = tcase_create("loader");
        tcase_add_test(tc, test_load_shipped_contract);
        tcase_add_test(tc, test_field_details);
        tcase_add_test(tc, test_config_dir_overrides_by_id);
        tcase_add_loop_test(tc, test_malformed_file, 0, (int) ELEMENTSOF(malformed));
        tcase_add_loop_test(tc, test_check_form_agrees, 0, (int) ELEMENTSOF(check_forms));
        tcase_add_test(tc, test_malformed_skipped_others_load);
        tcase_add_test(tc, test_missing_dirs);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        Suite *suite = types_suite();
        return check_main_run(suite);
}
