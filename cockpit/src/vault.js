/* SPDX-License-Identifier: Apache-2.0 */
/* The page's one door to orgvaultd: io.orgvault.Vault1 on the system bus,
 * called as the logged-in user through cockpit.dbus, so the daemon's own
 * role checks decide what this user may do (docs/API.md). Nothing here keeps
 * a secret's value: AddSecret's fields go straight into the call. */

/* global cockpit */

const NAME = "io.orgvault.Vault1";
const PATH = "/io/orgvault/Vault1";
const MANAGER = "io.orgvault.Vault1.Manager";
const ERR = "io.orgvault.Vault1.Error.";

const _ = cockpit.gettext;

let client = null;

export function bus() {
    if (!client)
        client = cockpit.dbus(NAME, { bus: "system" });
    return client;
}

function call(method, signature, args) {
    return bus().call(PATH, MANAGER, method, args, { type: signature });
}

/* a{sv} from a plain object of strings, numbers (u) and booleans. */
function variants(obj, uintKeys = []) {
    const out = {};
    for (const [k, v] of Object.entries(obj)) {
        if (v === undefined || v === null || v === "")
            continue;
        if (typeof v === "boolean")
            out[k] = { t: "b", v };
        else if (uintKeys.includes(k))
            out[k] = { t: "u", v };
        else
            out[k] = { t: "s", v: String(v) };
    }
    return out;
}

function unvariant(dict) {
    const out = {};
    for (const [k, v] of Object.entries(dict || {}))
        out[k] = v && typeof v === "object" && "v" in v ? v.v : v;
    return out;
}

export async function listOrgs() {
    const [orgs] = await call("ListOrgs", "", []);
    return orgs.map(([org, role]) => ({ org, role }));
}

export async function listTypes(feature = "") {
    const [types] = await call("ListTypes", "s", [feature]);
    return types.map(([id, name, category, usedBy]) => ({
        id, name, category, usedBy: usedBy ? usedBy.split(",") : [],
    }));
}

export async function describeType(type) {
    const [fields] = await call("DescribeType", "s", [type]);
    return fields.map(([id, label, kind, required, secret, description, allowed]) => ({
        id, label, kind, required, secret, description, allowed,
    }));
}

export async function describeTypeNotes(type) {
    try {
        const [notes] = await call("DescribeTypeNotes", "s", [type]);
        return notes;
    } catch (ex) {
        return [];      /* an older daemon without the additive method */
    }
}

export async function listSecrets(org, filter = {}) {
    const [list] = await call("ListSecrets", "sa{sv}", [org, variants(filter, ["limit", "offset"])]);
    return list.map(([id, name, type, created, updated, refs]) => ({ id, name, type, created, updated, refs }));
}

export async function getSecret(org, id) {
    const [meta] = await call("GetSecret", "ss", [org, id]);
    const m = unvariant(meta);
    m.References = (m.References || []).map(([feature, target, created]) => ({ feature, target, created }));
    return m;
}

/* fields: { field id: value }. With validateOnly the daemon checks exactly
 * what a real add checks and saves nothing (the "Next" step). */
export async function addSecret(org, type, name, fields, { validateOnly = false } = {}) {
    const options = validateOnly ? { validate_only: { t: "b", v: true } } : {};
    const [id, warnings] = await call("AddSecret", "sssa{ss}a{sv}", [org, type, name, fields, options]);
    return { id, warnings };
}

export function deleteSecret(org, id, force) {
    return call("DeleteSecret", "ssb", [org, id, !!force]);
}

export async function status() {
    const [st] = await call("Status", "", []);
    return unvariant(st);
}

/* Calls fn whenever a secret is added, removed or changed, and when the
 * daemon (re)appears on the bus. orgvaultd signals only the peers that have
 * called it and exits when idle, so after a re-activation this page hears
 * nothing until it calls again: fn re-lists, which both refreshes and makes
 * the page a known peer of the new instance. Returns an unsubscribe. */
export function watchSecrets(fn) {
    const c = bus();
    const subs = [
        c.subscribe({ path: PATH, interface: "org.freedesktop.DBus.ObjectManager" }, () => fn()),
        c.subscribe({ path_namespace: PATH + "/secret", interface: "org.freedesktop.DBus.Properties" }, () => fn()),
    ];
    const onOwner = (_ev, owner) => { if (owner) fn(); };
    c.addEventListener("owner", onOwner);
    return () => {
        subs.forEach(s => s.remove());
        c.removeEventListener("owner", onOwner);
    };
}

/* InvalidField messages name fields as "field: reason; field: reason" (a
 * reason may hold "; " itself): returns { field id: reason } for the given
 * field ids, and "" under the key "" for text naming no field. */
export function splitInvalidField(message, fieldIds) {
    const out = {};
    const starts = [];
    for (const id of fieldIds) {
        const re = new RegExp(`(^|; )${id.replace(/[^a-z0-9_]/gi, "")}: `, "g");
        let m;
        while ((m = re.exec(message)) !== null)
            starts.push({ id, at: m.index + m[1].length, body: m.index + m[0].length });
    }
    starts.sort((a, b) => a.at - b.at);
    if (starts.length === 0 || starts[0].at > 0)
        out[""] = message.slice(0, starts.length ? starts[0].at : message.length).replace(/; $/, "");
    starts.forEach((s, i) => {
        const end = i + 1 < starts.length ? starts[i + 1].at - 2 : message.length;
        if (!(s.id in out))
            out[s.id] = message.slice(s.body, end);
    });
    return out;
}

/* Field-level warnings come as "field: text" too. */
export function splitWarnings(warnings, fieldIds) {
    const byField = {};
    const general = [];
    for (const w of warnings || []) {
        const id = fieldIds.find(f => w.startsWith(f + ": "));
        if (id)
            (byField[id] = byField[id] || []).push(w.slice(id.length + 2));
        else
            general.push(w);
    }
    return { byField, general };
}

export function errorName(ex) {
    return (ex && ex.name) || "";
}

export function isError(ex, short) {
    return errorName(ex) === ERR + short;
}

/* What a person should see for a failed call: a title, the daemon's own
 * message, and what to do about it, the way Cockpit's pages explain
 * failures (an inline danger alert with the next step). */
export function explain(ex, org) {
    const name = errorName(ex);
    const message = (ex && ex.message) || String(ex);
    const known = {
        "org.freedesktop.DBus.Error.AccessDenied": {
            title: _("Not permitted"),
            todo: cockpit.format(_("Your account has no role in this organization that allows this. " +
                                   "Ask an administrator of the organization to add you to its admins or members " +
                                   "(/etc/orgvault/orgs.d/$0.json)."), org || "<org>"),
        },
        [ERR + "Sealed"]: {
            title: _("The vault is sealed"),
            todo: _("Its keys are locked away. An administrator must unseal it (orgvaultctl unseal) before secrets can be used or changed."),
        },
        [ERR + "StorageFailure"]: {
            title: _("The vault could not store this"),
            todo: _("Nothing was changed. Check free disk space and the journal (journalctl -u orgvaultd), then try again."),
        },
        [ERR + "NotFound"]: {
            title: _("The secret no longer exists"),
            todo: _("Someone else may have deleted it; the list has been refreshed."),
        },
        [ERR + "NameExists"]: {
            title: _("That name is taken"),
            todo: _("Another secret of this organization has this display name (names ignore case). Choose a different one."),
        },
        [ERR + "InUse"]: {
            title: _("The secret is still in use"),
            todo: _("Point those features at another secret first, or delete anyway."),
        },
        [ERR + "UnknownType"]: {
            title: _("Unknown secret type"),
            todo: _("The type may have been removed from /etc/orgvault/types.d; reload the page."),
        },
        "org.freedesktop.DBus.Error.ServiceUnknown": {
            title: _("orgvault is not available"),
            todo: _("The orgvault service is not installed on this system, or its D-Bus activation file is missing. " +
                    "Install orgvault (meson install) and reload D-Bus (systemctl reload dbus)."),
        },
    };
    const k = known[name] ||
        (name.startsWith("org.freedesktop.DBus.Error.Spawn") || (ex && ex.problem === "not-found")
            ? known["org.freedesktop.DBus.Error.ServiceUnknown"]
            : (ex && ex.problem === "disconnected")
                ? { title: _("Disconnected"), todo: _("The connection to the server was lost. Reload the page to reconnect.") }
                : { title: _("Something went wrong"), todo: _("Try again; if it persists, see the journal (journalctl -u orgvaultd).") });
    return { title: k.title, message, todo: k.todo, name };
}

export const CATEGORY_LABELS = {
    notification: _("Notification integrations"),
    ai: _("AI providers"),
    telephony: _("Telephony providers"),
};

export function categoryLabel(c) {
    return CATEGORY_LABELS[c] || (c ? c.charAt(0).toUpperCase() + c.slice(1) : _("Other"));
}

/* µs since the epoch → the browser's local date and time. */
export function localTime(us) {
    if (!us)
        return "";
    return new Date(us / 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}
