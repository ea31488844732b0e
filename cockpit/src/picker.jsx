/* SPDX-License-Identifier: Apache-2.0 */
/* The secret picker: index.html#/pick?feature=<feature>[&org=<org>] lists
 * only the secrets whose types the feature uses, offers "Add new" restricted
 * to those types (admins), and reports the choice to whoever opened it
 * (docs/COCKPIT.md): a window.postMessage to the embedding frame or the
 * opening window, and the location option "selected". */

/* global cockpit */

import React, { useMemo, useState } from "react";
import { Page, PageSection } from "@patternfly/react-core/dist/esm/components/Page/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Content } from "@patternfly/react-core/dist/esm/components/Content/index.js";
import { EmptyState, EmptyStateBody } from "@patternfly/react-core/dist/esm/components/EmptyState/index.js";
import { SearchInput } from "@patternfly/react-core/dist/esm/components/SearchInput/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import { Toolbar, ToolbarContent, ToolbarItem } from "@patternfly/react-core/dist/esm/components/Toolbar/index.js";

import { ErrorAlert, OrgSelector, useDebounced, useOrgs, useSecretList, useTypes } from "./common.jsx";
import { SecretsTable } from "./secrets-table.jsx";
import { AddSecretDialog } from "./add-dialog.jsx";
import * as vault from "./vault.js";

const _ = cockpit.gettext;

export const PICKED_MESSAGE = "orgvault-secret-picked";

/* Same origin only: every Cockpit package is served from the same origin, so
 * the message never leaves Cockpit. It carries ids and names, never a value. */
function report(message) {
    const targets = new Set();
    if (window.parent && window.parent !== window)
        targets.add(window.parent);
    if (window.opener)
        targets.add(window.opener);
    for (const t of targets)
        t.postMessage(message, window.location.origin);
}

export function PickerPage({ feature, org: wantedOrg }) {
    const { orgs, org, setOrg, role, error: orgsError } = useOrgs(wantedOrg);
    const [search, setSearch] = useState("");
    const settled = useDebounced(search);
    const filter = useMemo(() => ({ feature, ...(settled ? { search: settled } : {}) }), [feature, settled]);
    const { secrets, error, generation } = useSecretList(org, filter);
    const { types, error: typesError } = useTypes(feature);
    const { types: allTypes } = useTypes("");
    const [selected, setSelected] = useState(null);
    const [adding, setAdding] = useState(false);
    const [picked, setPicked] = useState(null);

    const typeNames = useMemo(() => Object.fromEntries((allTypes || []).map(t => [t.id, t.name])), [allTypes]);

    const choose = (s) => {
        const message = { type: PICKED_MESSAGE, feature, org, id: s.id, name: s.name, secretType: s.type };
        setPicked(s);
        report(message);
        cockpit.location.replace(["pick"], { ...cockpit.location.options, org, selected: s.id });
    };

    const cancel = () => report({ type: PICKED_MESSAGE, feature, org, id: "", cancelled: true });

    if (!feature)
        return (
            <EmptyState id="ov-picker-no-feature" titleText={_("No feature given")} headingLevel="h2">
                <EmptyStateBody>{_("Open the picker as #/pick?feature=<feature>, e.g. #/pick?feature=alerts.")}</EmptyStateBody>
            </EmptyState>
        );

    const err = orgsError || typesError || error;
    const loading = !orgs || !types || (org && !secrets && !err);
    return (
        <Page className="pf-m-no-sidebar" id="ov-picker">
            <PageSection>
                <Content component="h2">{cockpit.format(_("Choose a secret for $0"), feature)}</Content>
                <Content component="p" id="ov-picker-types">
                    {types && types.length > 0
                        ? cockpit.format(_("Types $0 uses: $1."), feature, types.map(t => t.name).join(", "))
                        : (types ? cockpit.format(_("No secret type is used by $0."), feature) : "")}
                </Content>
                <Toolbar>
                    <ToolbarContent>
                        <ToolbarItem alignSelf="center"><OrgSelector orgs={orgs} org={org} setOrg={setOrg} /></ToolbarItem>
                        <ToolbarItem>
                            <SearchInput id="ov-search" aria-label={_("Search by name")} placeholder={_("Search by name")}
                                         value={search} onChange={(_ev, v) => setSearch(v)} onClear={() => setSearch("")} />
                        </ToolbarItem>
                        {role === "admin" && types && types.length > 0 && (
                            <ToolbarItem>
                                <Button id="ov-picker-add" variant="secondary" onClick={() => setAdding(true)}>{_("Add new")}</Button>
                            </ToolbarItem>
                        )}
                    </ToolbarContent>
                </Toolbar>
                {err && <ErrorAlert org={org} id="ov-picker-error" error={err} />}
                {loading && !err && <Spinner size="lg" aria-label={_("Loading")} />}
                {!loading && secrets && (
                    <SecretsTable org={org} secrets={secrets} typeNames={typeNames} generation={generation}
                                  isAdmin={false} select={{ selected: selected?.id, onSelect: setSelected }}
                                  emptyText={role === "admin"
                                      ? cockpit.format(_("No secret $0 can use yet. Add new creates one."), feature)
                                      : cockpit.format(_("No secret $0 can use yet. Ask an administrator to add one."), feature)} />
                )}
                <div className="ov-picker-actions">
                    <Button id="ov-picker-choose" variant="primary" isDisabled={!selected}
                            onClick={() => choose(selected)}>
                        {_("Use this secret")}
                    </Button>
                    <Button id="ov-picker-cancel" variant="link" onClick={cancel}>{_("Cancel")}</Button>
                </div>
                {picked && <p id="ov-picker-picked" className="ov-muted">{cockpit.format(_("Chose \"$0\" ($1/$2)."), picked.name, org, picked.id)}</p>}
            </PageSection>
            {adding && (
                <AddSecretDialog org={org} types={types} onClose={() => setAdding(false)}
                                 onAdded={id => vault.getSecret(org, id).then(m => choose({ id, name: m.Name, type: m.Type }))} />
            )}
        </Page>
    );
}
