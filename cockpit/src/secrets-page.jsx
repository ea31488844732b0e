/* SPDX-License-Identifier: Apache-2.0 */
/* Settings → Secrets: the org's secrets (Name, Created, Type, Used by) with a
 * server-side search, row details, and for admins Add and Delete. */

/* global cockpit */

import React, { useEffect, useMemo, useState } from "react";
import { Page, PageSection } from "@patternfly/react-core/dist/esm/components/Page/index.js";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Card, CardBody } from "@patternfly/react-core/dist/esm/components/Card/index.js";
import { Content } from "@patternfly/react-core/dist/esm/components/Content/index.js";
import { EmptyState, EmptyStateBody } from "@patternfly/react-core/dist/esm/components/EmptyState/index.js";
import { SearchInput } from "@patternfly/react-core/dist/esm/components/SearchInput/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import { Toolbar, ToolbarContent, ToolbarItem } from "@patternfly/react-core/dist/esm/components/Toolbar/index.js";

import { ErrorAlert, OrgSelector, useDebounced, useOrgs, useSecretList, useTypes } from "./common.jsx";
import { SecretsTable } from "./secrets-table.jsx";
import { AddSecretDialog } from "./add-dialog.jsx";
import { DeleteSecretDialog } from "./delete-dialog.jsx";
import * as vault from "./vault.js";

const _ = cockpit.gettext;

export function SecretsPage({ org: wantedOrg }) {
    const { orgs, org, setOrg, role, error: orgsError } = useOrgs(wantedOrg);
    const [search, setSearch] = useState("");
    const settled = useDebounced(search);
    const filter = useMemo(() => (settled ? { search: settled } : {}), [settled]);
    const { secrets, error, generation } = useSecretList(org, filter);
    const [sealed, setSealed] = useState(false);
    const { types } = useTypes("");
    const [adding, setAdding] = useState(false);
    const [deleting, setDeleting] = useState(null);
    const isAdmin = role === "admin";

    useEffect(() => {
        if (org && org !== cockpit.location.options.org && orgs && orgs.length > 1)
            cockpit.location.replace([], { org });
    }, [org, orgs]);

    /* Seal and Unseal send no signal: asked again whenever the list is. */
    useEffect(() => {
        vault.status().then(st => setSealed(!!st.Sealed), () => setSealed(false));
    }, [generation]);

    const typeNames = useMemo(() => Object.fromEntries((types || []).map(t => [t.id, t.name])), [types]);

    let body;
    if (orgsError)
        body = <ErrorAlert id="ov-page-error" error={orgsError} isInline={false} />;
    else if (orgs && orgs.length === 0)
        body = (
            <EmptyState id="ov-no-orgs" titleText={_("No organizations")} headingLevel="h2">
                <EmptyStateBody>
                    {_("Your account has no role in any organization. An administrator can add you as a member in /etc/orgvault/orgs.d/<org>.json.")}
                </EmptyStateBody>
            </EmptyState>
        );
    else if (!orgs || (!secrets && !error))
        body = <EmptyState titleText={_("Loading")} headingLevel="h2" icon={Spinner} />;
    else
        body = (
            <>
                {sealed && (
                    <Alert id="ov-sealed" variant="warning" isInline title={_("The vault is sealed")}>
                        {_("Secrets can be listed, but not added or handed to services until an administrator unseals the vault (orgvaultctl unseal).")}
                    </Alert>
                )}
                {error && <ErrorAlert org={org} id="ov-list-error" error={error} />}
                {secrets && (
                    <SecretsTable org={org} secrets={secrets} typeNames={typeNames} generation={generation}
                                  isAdmin={isAdmin} onDelete={setDeleting}
                                  emptyText={settled ? cockpit.format(_("No secret's name contains \"$0\"."), settled)
                                      : (isAdmin ? _("No secrets yet. Add one to use it in features.")
                                          : _("No secrets yet. An administrator of the organization can add them."))} />
                )}
            </>
        );

    return (
        <Page className="pf-m-no-sidebar" id="ov-secrets-page">
            <PageSection>
                <Content component="h1">{_("Secrets")}</Content>
                <Content component="p">
                    {_("API keys, webhook URLs and other credentials that features of this organization use. A saved value is stored encrypted and is never shown again.")}
                </Content>
            </PageSection>
            <PageSection>
                <Card>
                    <CardBody>
                        <Toolbar id="ov-toolbar">
                            <ToolbarContent>
                                <ToolbarItem alignSelf="center"><OrgSelector orgs={orgs} org={org} setOrg={setOrg} /></ToolbarItem>
                                <ToolbarItem>
                                    <SearchInput id="ov-search" aria-label={_("Search by name")} placeholder={_("Search by name")}
                                                 value={search} onChange={(_ev, v) => setSearch(v)}
                                                 onClear={() => setSearch("")} />
                                </ToolbarItem>
                                {isAdmin && (
                                    <ToolbarItem align={{ default: "alignEnd" }}>
                                        <Button id="ov-add" variant="primary" onClick={() => setAdding(true)}>
                                            {_("Add secret")}
                                        </Button>
                                    </ToolbarItem>
                                )}
                            </ToolbarContent>
                        </Toolbar>
                        {body}
                    </CardBody>
                </Card>
            </PageSection>
            {adding && types && (
                <AddSecretDialog org={org} types={types} onClose={() => setAdding(false)} />
            )}
            {deleting && (
                <DeleteSecretDialog org={org} secret={deleting} typeName={typeNames[deleting.type] || deleting.type}
                                    onClose={() => setDeleting(null)} />
            )}
        </Page>
    );
}
