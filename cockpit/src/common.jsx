/* SPDX-License-Identifier: Apache-2.0 */
/* What the page and the picker share: the caller's orgs, the live list of an
 * org's secrets, the types, the org selector and the error alert. */

/* global cockpit */

import React, { useCallback, useEffect, useRef, useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { FormSelect, FormSelectOption } from "@patternfly/react-core/dist/esm/components/FormSelect/index.js";

import * as vault from "./vault.js";

const _ = cockpit.gettext;

/* A failed call as Cockpit pages show one: a danger alert with the daemon's
 * message and what to do next. */
export function ErrorAlert({ error, org, isInline = true, id, actionClose }) {
    if (!error)
        return null;
    const e = error.title ? error : vault.explain(error, org);
    return (
        <Alert id={id} variant="danger" isInline={isInline} title={e.title} actionClose={actionClose}
               data-error-name={e.name || undefined}>
            {e.message.toLowerCase() !== e.title.toLowerCase() && <p className="ov-error-message">{e.message}</p>}
            {e.todo && <p className="ov-error-todo">{e.todo}</p>}
        </Alert>
    );
}

/* The orgs where the logged-in user has a role, and the chosen one. */
export function useOrgs(wanted) {
    const [orgs, setOrgs] = useState(null);
    const [error, setError] = useState(null);
    const [org, setOrg] = useState(wanted);

    useEffect(() => {
        vault.listOrgs()
                .then(list => {
                    setOrgs(list);
                    setOrg(cur => list.some(o => o.org === cur) ? cur : (list[0] ? list[0].org : ""));
                })
                .catch(setError);
    }, []);

    const role = (orgs || []).find(o => o.org === org)?.role || "";
    return { orgs, org, setOrg, role, error };
}

/* The org's secrets matching filter, re-listed on every ObjectManager or
 * PropertiesChanged signal (another session's add or delete appears without
 * a reload). Search and filters run in the daemon (ListSecrets). */
export function useSecretList(org, filter) {
    const [secrets, setSecrets] = useState(null);
    const [error, setError] = useState(null);
    const [generation, setGeneration] = useState(0);
    const seq = useRef(0);
    const key = JSON.stringify(filter);

    const refresh = useCallback(() => {
        if (!org)
            return;
        const mine = ++seq.current;
        vault.listSecrets(org, JSON.parse(key))
                .then(list => {
                    if (mine !== seq.current)
                        return;         /* a newer listing is on its way */
                    setSecrets(list);
                    setError(null);
                    setGeneration(g => g + 1);
                })
                .catch(ex => {
                    if (mine === seq.current)
                        setError(ex);
                });
    }, [org, key]);

    useEffect(() => {
        refresh();
        return vault.watchSecrets(refresh);
    }, [refresh]);

    return { secrets, error, refresh, generation };
}

export function useTypes(feature = "") {
    const [types, setTypes] = useState(null);
    const [error, setError] = useState(null);
    useEffect(() => {
        vault.listTypes(feature).then(setTypes, setError);
    }, [feature]);
    return { types, error };
}

export function OrgSelector({ orgs, org, setOrg }) {
    if (!orgs || orgs.length < 2)
        return <span className="ov-org">{_("Organization")} <span id="ov-org-name" className="ov-org-name">{org}</span></span>;
    return (
        <FormSelect id="ov-org-select" aria-label={_("Organization")} value={org}
                    onChange={(_ev, v) => setOrg(v)}>
            {orgs.map(o => <FormSelectOption key={o.org} value={o.org} label={cockpit.format(_("$0 ($1)"), o.org, o.role)} />)}
        </FormSelect>
    );
}

/* The value of a search box, settled for a moment before it is sent. */
export function useDebounced(value, ms = 250) {
    const [settled, setSettled] = useState(value);
    useEffect(() => {
        const t = setTimeout(() => setSettled(value), ms);
        return () => clearTimeout(t);
    }, [value, ms]);
    return settled;
}
