// SPDX-License-Identifier: Apache-2.0
// The Secrets page driven in Debian's chromium (headless, through
// playwright-core) against cockpit-ws sessions of an admin and a member of
// org acme, with orgvaultd on the test's private bus (tests/browser/run sets
// that up). Other clients act through busctl, as real ones do. Every wait is
// for a condition with a deadline; nothing sleeps for a fixed time.
//
// Env: OV_ADMIN_URL, OV_MEMBER_URL (cockpit-ws), OV_BUS, OV_ARTIFACTS (screenshots),
// OV_WS_LOGS (cockpit-ws/bridge logs, ":"-separated), OV_ORGS_D (the daemon's policy dir),
// OV_STATE_DIR (its --state-dir, to find the running daemon),
// OV_CHROMIUM (default /usr/bin/chromium).
// Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed".

"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { chromium } = require("playwright-core");

const ADMIN = process.env.OV_ADMIN_URL;
const MEMBER = process.env.OV_MEMBER_URL;
const BUS = process.env.OV_BUS;
const ARTIFACTS = process.env.OV_ARTIFACTS;
const WS_LOGS = (process.env.OV_WS_LOGS || "").split(":").filter(Boolean);
const ORGS_D = process.env.OV_ORGS_D;
const STATE_DIR = process.env.OV_STATE_DIR;
const PAGE = "/cockpit/@localhost/orgvault/index.html";
const TZ = "America/New_York";     // the browser's zone: Created must be shown in it
const WAIT = 30000;                // deadline for each condition (a loaded CPU is slow, never stuck)

// Fake values only: they have the shapes the types accept, and lead nowhere.
const SLACK_OK = "https://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx";
const SLACK_BAD = "https://hooks.slack.com/services/TFAKE0000/BFAKE0000";
const SLACK_WARN = "https://hooks.slack.com/services/TFAKE0002/BFAKE0002/zzzzzzzzzzzzzzzzzzzz";
const SLACK_BUS = "https://hooks.slack.com/services/TFAKE0001/BFAKE0001/yyyyyyyyyyyyyyyyyyyyyyyy";
const OPENAI_BUS = "sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000";
const PAGE_VALUES = [SLACK_OK, SLACK_BAD, SLACK_WARN];

let passed = 0;
let failed = 0;
function ok(d) { passed++; console.log(`ok - ${d}`) }
function notOk(d) { failed++; console.log(`not ok - ${d}`) }
async function step(desc, fn) {
    try {
        await fn();
        ok(desc);
    } catch (e) {
        notOk(`${desc}: ${String(e && e.message || e).split("\n").slice(0, 6).join(" | ")}`);
    }
}
function assert(cond, msg) { if (!cond) throw new Error(msg) }
function assertEq(got, want, what) {
    if (got !== want)
        throw new Error(`${what}: expected [${want}], got [${got}]`);
}

// busctl as a test user on the private bus; JSON out, or throws with stderr.
function busctl(user, method, signature, ...args) {
    const gid = execFileSync("id", ["-g", user]).toString().trim();
    const out = execFileSync("setpriv", [`--reuid=${user}`, `--regid=${gid}`, "--init-groups", "--",
        "busctl", `--address=${BUS}`, "--json=short", "call", "io.orgvault.Vault1", "/io/orgvault/Vault1",
        "io.orgvault.Vault1.Manager", method, ...(signature ? [signature] : []), ...args],
        { stdio: ["ignore", "pipe", "pipe"] });
    const text = out.toString().trim();
    return text ? JSON.parse(text).data : null;     /* methods without out arguments print nothing */
}
function busError(user, method, signature, ...args) {
    try {
        busctl(user, method, signature, ...args);
        return "";
    } catch (e) {
        return String(e.stderr || e.message).trim();
    }
}
const listIds = () => busctl("ovt-bob", "ListSecrets", "sa{sv}", "acme", "0")[0].map(r => r[0]);
const addSlack = (name, url) => busctl("ovt-bob", "AddSecret", "sssa{ss}a{sv}", "acme", "slack-webhook", name,
    "1", "webhook_url", url, "0")[0];

function localTime(us) {
    return new Date(us / 1000).toLocaleString("en-US", { timeZone: TZ, dateStyle: "medium", timeStyle: "medium" });
}

// The row of a secret (by id) and its cells' text.
const row = (page, id) => page.locator(`tr.ov-secret-row[data-secret-id="${id}"]`);
const expand = (page, id) => row(page, id).locator('button[id^="ov-expand-"]').click();
async function rowIds(page) {
    return page.locator("tr.ov-secret-row").evaluateAll(rows => rows.map(r => r.dataset.secretId));
}
async function waitRows(page, want, what) {
    const sorted = [...want].sort();
    try {
        await page.waitForFunction(ids => {
            const got = [...document.querySelectorAll("tr.ov-secret-row")].map(r => r.dataset.secretId).sort();
            return JSON.stringify(got) === JSON.stringify(ids);
        }, sorted, { timeout: WAIT });
    } catch (e) {
        throw new Error(`${what}: rows [${(await rowIds(page)).join(", ")}], want [${sorted.join(", ")}]`);
    }
}

// Nothing typed into a secret field may stay in the page: not in the DOM,
// not in an input's value, not in web storage.
async function assertNoValues(page, values, where) {
    const html = await page.content();
    const inputs = await page.evaluate(() => [...document.querySelectorAll("input, textarea")].map(i => i.value).join("\n"));
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    for (const v of values) {
        assert(!html.includes(v), `${where}: a value is in the DOM`);
        assert(!inputs.includes(v), `${where}: a value is in an input`);
        assert(!storage.includes(v), `${where}: a value is in web storage`);
    }
}

async function shot(page, name) {
    const file = path.join(ARTIFACTS, name);
    await page.screenshot({ path: file, animations: "disabled" });
    console.log(`# screenshot ${file}`);
}

async function main() {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ov-chromium-"));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: process.env.OV_CHROMIUM || "/usr/bin/chromium",
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        viewport: { width: 1280, height: 860 },
        timezoneId: TZ,
        locale: "en-US",
    });
    context.setDefaultTimeout(WAIT);
    const pageErrors = [];
    const sentFrames = [];
    const foreign = [];
    const origins = [new URL(ADMIN).origin, new URL(MEMBER).origin];
    const watch = (page, who) => {
        page.on("pageerror", e => pageErrors.push(`${who}: ${e.message}`));
        page.on("request", r => {
            const u = r.url();
            if (!/^(data|blob|about):/.test(u) && !origins.includes(new URL(u).origin))
                foreign.push(u);
        });
        page.on("websocket", ws => ws.on("framesent", f => sentFrames.push(String(f.payload))));
    };

    try {
        const admin = await context.newPage();
        watch(admin, "admin");

        await step("manifest puts \"Secrets\" in Cockpit's menu", async () => {
            const r = await admin.request.get(ADMIN + "/cockpit/@localhost/manifests.json");
            assert(r.ok(), `manifests.json: HTTP ${r.status()}`);
            const m = await r.json();
            assertEq(m.orgvault && m.orgvault.menu && m.orgvault.menu.index && m.orgvault.menu.index.label,
                "Secrets", "menu label");
        });

        await step("Cockpit's shell: \"Secrets\" in its menu opens the page in the shell's frame", async () => {
            const shell = await context.newPage();
            await shell.goto(ADMIN + "/system");
            const link = shell.locator("#host-apps a", { hasText: "Secrets" });
            await link.waitFor();
            await link.click();
            await shell.waitForURL(/\/orgvault$/);
            const frame = shell.frameLocator('iframe[name="cockpit1:localhost/orgvault"]');
            await frame.locator("#ov-secrets-page h1", { hasText: "Secrets" }).waitFor();
            await frame.locator("#ov-empty").waitFor();
            await shot(shell, "shell-menu.png");
            await shell.close();
        });

        await step("admin: the page loads with an empty table and an Add button", async () => {
            await admin.goto(ADMIN + PAGE);
            await admin.locator("#ov-empty").waitFor();
            await admin.locator("#ov-add").waitFor();
            assertEq(await admin.locator("#ov-org-select").inputValue(), "acme", "org");
        });

        await step("org selector: each org shows with the user's role there (member of globex: no Add)", async () => {
            const orgs = await admin.locator("#ov-org-select option").evaluateAll(o => o.map(x => x.value));
            assertEq(JSON.stringify(orgs), JSON.stringify(["acme", "globex"]), "orgs");
            await admin.locator("#ov-org-select").selectOption("globex");
            await admin.locator("#ov-add").waitFor({ state: "detached" });
            await admin.locator("#ov-empty").waitFor();
            await admin.locator("#ov-org-select").selectOption("acme");
            await admin.locator("#ov-add").waitFor();
        });

        await step("add dialog: types grouped by category, each with what uses it", async () => {
            await admin.locator("#ov-add").click();
            await admin.locator("#ov-add-dialog").waitFor();
            const groups = await admin.locator("#ov-add-type optgroup").evaluateAll(g => g.map(x => x.label));
            assertEq(JSON.stringify(groups),
                JSON.stringify(["Notification integrations", "AI providers", "Telephony providers"]), "groups");
            const slack = await admin.locator('#ov-add-type option[value="slack-webhook"]').textContent();
            assert(/Slack Webhook URL .*used by alerts/.test(slack), `slack option: ${slack}`);
        });

        await step("add dialog: the type's field is a password input with its description", async () => {
            await admin.locator("#ov-add-type").selectOption("slack-webhook");
            const input = admin.locator("#ov-field-webhook_url");
            await input.waitFor();
            assertEq(await input.getAttribute("type"), "password", "input type");
            const desc = await admin.locator('[data-field="webhook_url"] .ov-field-description').textContent();
            assert(desc.includes("Slack incoming webhook URL"), `description: ${desc}`);
        });

        await step("Next: a bad value is rejected on its field and nothing is saved", async () => {
            await admin.locator("#ov-field-webhook_url").fill(SLACK_BAD);
            await admin.locator("#ov-add-next").click();
            const err = admin.locator('[data-field="webhook_url"] .ov-field-error');
            await err.waitFor();
            const text = (await err.textContent()).trim();
            assert(text.length > 10, `field message: [${text}]`);
            assertEq(await admin.locator("#ov-field-webhook_url").getAttribute("aria-invalid"), "true", "aria-invalid");
            assertEq(await admin.locator("#ov-add-name").count(), 0, "display name step shown");
            assertEq(listIds().length, 0, "secrets saved");
            await shot(admin, "add-dialog-fields.png");
        });

        await step("Next with the value fixed, then a display name and Add: the secret is in the table", async () => {
            await admin.locator("#ov-field-webhook_url").fill(SLACK_OK);
            await admin.locator('[data-field="webhook_url"] .ov-field-error').waitFor({ state: "detached" });
            await admin.locator("#ov-add-next").click();
            await admin.locator("#ov-add-name").waitFor();
            assertEq(listIds().length, 0, "secrets saved by Next");
            await admin.locator("#ov-add-name").fill("Ops Slack");
            await admin.locator("#ov-add-submit").click();
            await admin.locator("#ov-add-dialog").waitFor({ state: "detached" });
            await row(admin, "ops-slack").waitFor();
            assertEq(JSON.stringify(listIds()), JSON.stringify(["ops-slack"]), "saved");
        });

        await step("after Add, no value typed into the dialog is left in the page", async () => {
            await assertNoValues(admin, PAGE_VALUES, "after Add");
        });

        await step("table row: name, Created in local time, type name, used by", async () => {
            const meta = busctl("ovt-bob", "GetSecret", "ss", "acme", "ops-slack")[0];
            const r = row(admin, "ops-slack");
            assertEq(await r.locator(".ov-name").textContent(), "Ops Slack", "name");
            assertEq(await r.locator(".ov-created").textContent(), localTime(meta.Created.data), "created");
            assertEq(await r.locator(".ov-type").textContent(), "Slack Webhook URL", "type");
            assertEq(await r.locator(".ov-refs").textContent(), "0", "used by");
        });

        await step("another client's AddSecret over busctl appears in the open page (no reload)", async () => {
            await admin.evaluate(() => { window.ovNoReload = true });
            busctl("ovt-bob", "AddSecret", "sssa{ss}a{sv}", "acme", "openai-api-key", "Ops OpenAI",
                "1", "api_key", OPENAI_BUS, "0");
            addSlack("Backup Slack", SLACK_BUS);
            await waitRows(admin, ["ops-slack", "ops-openai", "backup-slack"], "live add");
            assert(await admin.evaluate(() => window.ovNoReload === true), "the page reloaded");
            await shot(admin, "table.png");
        });

        await step("search filters by name in the daemon (ListSecrets search)", async () => {
            const before = sentFrames.length;
            await admin.locator("#ov-search input").fill("SLACK");
            await waitRows(admin, ["ops-slack", "backup-slack"], "search SLACK");
            const asked = sentFrames.slice(before).some(f => f.includes("ListSecrets") && f.includes("\"search\"") &&
                f.includes("SLACK"));
            assert(asked, "no ListSecrets call with search was sent");
            await admin.locator("#ov-search input").fill("openai");
            await waitRows(admin, ["ops-openai"], "search openai");
            await admin.locator("#ov-search input").fill("");
            await waitRows(admin, ["ops-slack", "ops-openai", "backup-slack"], "search cleared");
        });

        await step("row details: type, times, version, last use, references, and no value", async () => {
            busctl("ovt-alertd", "Resolve", "ss", "acme", "backup-slack");
            await expand(admin, "backup-slack");
            const used = admin.locator('[data-details-for="backup-slack"] [data-field="last-used"]');
            await used.waitFor();
            assert(/ by \S/.test(await used.textContent()), `last used: ${await used.textContent()}`);
            await expand(admin, "ops-slack");
            const d = admin.locator('[data-details-for="ops-slack"]');
            await d.waitFor();
            assertEq(await d.locator('[data-field="type"]').textContent(), "Slack Webhook URL (slack-webhook)", "type");
            assertEq(await d.locator('[data-field="version"]').textContent(), "1", "version");
            assertEq(await d.locator('[data-field="last-used"]').textContent(), "Never", "last used");
            assert((await d.locator('[data-field="references"]').textContent()).includes("No feature"), "references");
            const meta = busctl("ovt-bob", "GetSecret", "ss", "acme", "ops-slack")[0];
            assertEq(await d.locator('[data-field="created"]').textContent(), localTime(meta.Created.data), "created");
            await assertNoValues(admin, PAGE_VALUES, "details");
        });

        await step("delete: a confirmation naming the secret, then it is gone", async () => {
            await row(admin, "ops-openai").locator(".ov-delete").click();
            await admin.locator("#ov-delete-dialog").waitFor();
            const title = await admin.locator("#ov-delete-title").textContent();
            assert(title.includes('"Ops OpenAI"'), `title: ${title}`);
            await admin.locator("#ov-delete-confirm:not([disabled])").waitFor();
            await shot(admin, "delete-confirmation.png");
            await admin.locator("#ov-delete-confirm").click();
            await admin.locator("#ov-delete-dialog").waitFor({ state: "detached" });
            await waitRows(admin, ["ops-slack", "backup-slack"], "after delete");
            assert(busError("ovt-bob", "GetSecret", "ss", "acme", "ops-openai").includes("No secret"), "still there");
        });

        await step("a referenced secret: references listed, Delete held until the second confirmation (force)", async () => {
            busctl("ovt-alertd", "AddReference", "ssss", "acme", "ops-slack", "alerts", "sink:ops-channel");
            await admin.waitForFunction(() =>
                document.querySelector('tr[data-secret-id="ops-slack"] .ov-refs')?.textContent === "1");
            await row(admin, "ops-slack").locator(".ov-delete").click();
            await admin.locator("#ov-delete-refs").waitFor();
            assert((await admin.locator("#ov-delete-refs").textContent()).includes("alerts: sink:ops-channel"), "refs");
            assert(await admin.locator("#ov-delete-confirm").isDisabled(), "Delete enabled before the confirmation");
            await shot(admin, "delete-referenced.png");
            assert(listIds().includes("ops-slack"), "deleted without force");
            await admin.locator("#ov-delete-force").check();
            await admin.locator("#ov-delete-confirm:not([disabled])").click();
            await admin.locator("#ov-delete-dialog").waitFor({ state: "detached" });
            await waitRows(admin, ["backup-slack"], "after forced delete");
            assert(!listIds().includes("ops-slack"), "still saved");
        });

        await step("referenced while the dialog was open: the daemon's InUse refusal is shown, force deletes", async () => {
            await row(admin, "backup-slack").locator(".ov-delete").click();
            await admin.locator("#ov-delete-confirm:not([disabled])").waitFor();
            busctl("ovt-alertd", "AddReference", "ssss", "acme", "backup-slack", "alerts", "sink:backup");
            await admin.locator("#ov-delete-confirm").click();
            const err = admin.locator('#ov-delete-error[data-error-name="io.orgvault.Vault1.Error.InUse"]');
            await err.waitFor();
            assert((await err.textContent()).includes("sink:backup"), "InUse message names the reference");
            await admin.locator("#ov-delete-refs").waitFor();
            assert(listIds().includes("backup-slack"), "deleted despite InUse");
            await admin.locator("#ov-delete-force").check();
            await admin.locator("#ov-delete-confirm:not([disabled])").click();
            await admin.locator("#ov-delete-dialog").waitFor({ state: "detached" });
            await admin.locator("#ov-empty").waitFor();
            assertEq(listIds().length, 0, "left");
        });

        const shared = addSlack("Shared Slack", SLACK_BUS);
        const other = busctl("ovt-bob", "AddSecret", "sssa{ss}a{sv}", "acme", "openai-api-key", "Team OpenAI",
            "1", "api_key", OPENAI_BUS, "0")[0];

        await step("member: the table and details, no Add and no Delete; the picker without Add new", async () => {
            const member = await context.newPage();
            watch(member, "member");
            await member.goto(MEMBER + PAGE);
            await waitRows(member, [shared, other], "member rows");
            assertEq(await member.locator("#ov-add").count(), 0, "Add buttons");
            assertEq(await member.locator(".ov-delete").count(), 0, "Delete buttons");
            await expand(member, shared);
            const d = member.locator(`[data-details-for="${shared}"]`);
            await d.waitFor();
            assertEq(await d.locator('[data-field="type"]').textContent(), "Slack Webhook URL (slack-webhook)", "type");
            await shot(member, "member.png");
            // A member picks secrets for features too, but adds none.
            await member.goto(MEMBER + PAGE + "#/pick?feature=alerts");
            await member.locator(`tr.ov-secret-row[data-secret-id="${shared}"]`).waitFor();
            assertEq(await member.locator(`tr.ov-secret-row[data-secret-id="${other}"]`).count(), 0, "openai row");
            assertEq(await member.locator("#ov-picker-add").count(), 0, "Add new for a member");
            await member.close();
        });

        await step("picker embedded in another page: only the feature's secrets and types", async () => {
            await admin.goto(ADMIN + "/cockpit/@localhost/ovtest-embed/index.html");
            const picker = admin.frameLocator("#picker");
            await picker.locator(`tr.ov-secret-row[data-secret-id="${shared}"]`).waitFor();
            assertEq(await picker.locator(`tr.ov-secret-row[data-secret-id="${other}"]`).count(), 0, "openai row");
            const types = await picker.locator("#ov-picker-types").textContent();
            assert(types.includes("Slack Webhook URL") && types.includes("Teams") && !types.includes("OpenAI"),
                `types: ${types}`);
            await shot(admin, "picker.png");
        });

        await step("picker: Add new offers only those types, shows the daemon's warnings, reports the new id", async () => {
            const picker = admin.frameLocator("#picker");
            await picker.locator("#ov-picker-add").click();
            await picker.locator("#ov-add-dialog").waitFor();
            const offered = await picker.locator("#ov-add-type option:not([disabled])").evaluateAll(o => o.map(x => x.value));
            assertEq(JSON.stringify(offered.sort()), JSON.stringify(["slack-webhook", "teams-webhook"]), "types");
            await picker.locator("#ov-add-type").selectOption("slack-webhook");
            await picker.locator("#ov-field-webhook_url").fill(SLACK_WARN);
            await picker.locator("#ov-add-next").click();
            await picker.locator("#ov-warnings-accept").waitFor();
            const warned = await picker.locator(".ov-field-warning, #ov-add-warnings").count();
            assert(warned > 0, "no warning shown");
            assertEq(await picker.locator("#ov-add-name").count(), 0, "went on without showing the warning");
            await picker.locator("#ov-add-next").click();
            await picker.locator("#ov-add-name").fill("Picked Slack");
            await picker.locator("#ov-add-submit").click();
            await admin.waitForFunction(() => document.getElementById("result").textContent.includes("picked-slack"));
            const msg = JSON.parse(await admin.locator("#result").textContent());
            assertEq(`${msg.org}/${msg.id}/${msg.feature}`, "acme/picked-slack/alerts", "message");
            await assertNoValues(admin, PAGE_VALUES, "picker after Add");
            const inFrame = await admin.frames().find(f => f.url().includes("/orgvault/"))?.content();
            assert(inFrame && !PAGE_VALUES.some(v => inFrame.includes(v)), "a value is in the picker's DOM");
        });

        await step("picker: choosing an existing secret reports it to the opener", async () => {
            const picker = admin.frameLocator("#picker");
            await picker.locator(`tr.ov-secret-row[data-secret-id="${shared}"] input[type="radio"]`).check();
            await picker.locator("#ov-picker-choose").click();
            await admin.waitForFunction(id => document.getElementById("result").textContent.includes(`"id":"${id}"`), shared);
        });

        await step("another client's rename and delete show in the open page", async () => {
            await admin.goto(ADMIN + PAGE);
            await waitRows(admin, [shared, other, "picked-slack"], "rows");
            busctl("ovt-bob", "RenameSecret", "sss", "acme", other, "Team OpenAI (old)");
            await admin.waitForFunction(id =>
                document.querySelector(`tr[data-secret-id="${id}"] .ov-name`)?.textContent === "Team OpenAI (old)", other);
            busctl("ovt-bob", "DeleteSecret", "ssb", "acme", other, "false");
            await waitRows(admin, [shared, "picked-slack"], "after another client's delete");
        });

        await step("after orgvaultd exits (idle) and is activated again, the page still updates live", async () => {
            const pid = execFileSync("pgrep", ["-f", "--", `--state-dir=${STATE_DIR}( |$)`]).toString().trim().split("\n")[0];
            assert(/^[0-9]+$/.test(pid), `daemon pid: ${pid}`);
            process.kill(Number(pid), "SIGTERM");
            const deadline = Date.now() + WAIT;
            for (;;) {
                try { process.kill(Number(pid), 0) } catch (e) { break }
                assert(Date.now() < deadline, "the daemon did not exit");
                await new Promise(resolve => setTimeout(resolve, 50));     // polling for its exit, bounded
            }
            const again = addSlack("After Restart", SLACK_BUS);     // activates a new daemon
            await waitRows(admin, [shared, "picked-slack", again], "after re-activation");
        });

        await step("a sealed vault: the page says so, and Next shows the Sealed error with what to do", async () => {
            busctl("root", "Seal", "");
            try {
                await admin.goto(ADMIN + PAGE);
                await admin.locator("#ov-sealed").waitFor();
                await admin.locator("#ov-add").click();
                await admin.locator("#ov-add-type").selectOption("slack-webhook");
                await admin.locator("#ov-field-webhook_url").fill(SLACK_OK);
                await admin.locator("#ov-add-next").click();
                const err = admin.locator('#ov-add-error[data-error-name="io.orgvault.Vault1.Error.Sealed"]');
                await err.waitFor();
                assert((await err.textContent()).includes("orgvaultctl unseal"), "no advice");
                await shot(admin, "error-sealed.png");
                await admin.locator("#ov-add-cancel").click();
                await admin.locator("#ov-add-dialog").waitFor({ state: "detached" });
            } finally {
                busctl("root", "Unseal", "s", "");    // keyfile mode: the key file unseals
            }
            await admin.goto(ADMIN + PAGE);
            await row(admin, shared).waitFor();
            assertEq(await admin.locator("#ov-sealed").count(), 0, "still shown as sealed");
        });

        await step("a role revoked while the page is open: AccessDenied shown in the dialog, with what to do", async () => {
            const file = path.join(ORGS_D, "acme.json");
            const policy = JSON.parse(fs.readFileSync(file, "utf8"));
            const admins = policy.admins.users;
            const writePolicy = users => {
                policy.admins.users = users;
                fs.writeFileSync(file + ".tmp", JSON.stringify(policy));
                fs.renameSync(file + ".tmp", file);
            };
            await admin.goto(ADMIN + PAGE);
            await admin.locator("#ov-add").click();
            writePolicy([]);
            try {
                await admin.locator("#ov-add-type").selectOption("slack-webhook");
                await admin.locator("#ov-field-webhook_url").fill(SLACK_OK);
                await admin.locator("#ov-add-next").click();
                const err = admin.locator('#ov-add-error[data-error-name="org.freedesktop.DBus.Error.AccessDenied"]');
                await err.waitFor();
                assert((await err.textContent()).includes("Ask an administrator"), "no advice");
                assertEq(await admin.locator("#ov-add-name").count(), 0, "went on");
                await shot(admin, "error-access-denied.png");
                await admin.locator("#ov-add-cancel").click();
                await admin.locator("#ov-add-dialog").waitFor({ state: "detached" });
                await assertNoValues(admin, PAGE_VALUES, "after Cancel");
            } finally {
                writePolicy(admins);
            }
        });

        await step("no request left Cockpit's origin (the page needs no network)", async () => {
            assert(foreign.length === 0, foreign.slice(0, 3).join(", "));
        });

        await step("no value typed into the page is in the cockpit-ws/bridge logs", async () => {
            assert(WS_LOGS.length === 2, "logs");
            for (const f of WS_LOGS) {
                const log = fs.readFileSync(f, "utf8");
                for (const v of PAGE_VALUES)
                    assert(!log.includes(v), `${path.basename(f)} holds a value`);
            }
        });

        await step("no uncaught error in the pages", async () => {
            assert(pageErrors.length === 0, pageErrors.join("; "));
        });
    } finally {
        await context.close();
        fs.rmSync(profile, { recursive: true, force: true });
    }
}

main()
        .catch(e => notOk(`browser session: ${e.message}`))
        .finally(() => {
            console.log(`${passed} passed, ${failed} failed`);
            process.exitCode = failed ? 1 : 0;
        });
