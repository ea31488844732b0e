/* SPDX-License-Identifier: Apache-2.0 */
/* The table of an org's secrets. Each row expands into its details (never a
 * value); admins get a trash icon per row; the picker gets a radio per row. */

/* global cockpit */

import React, { useEffect, useState } from "react";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import {
    DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm,
} from "@patternfly/react-core/dist/esm/components/DescriptionList/index.js";
import { EmptyState, EmptyStateBody } from "@patternfly/react-core/dist/esm/components/EmptyState/index.js";
import { List, ListItem } from "@patternfly/react-core/dist/esm/components/List/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import { ExpandableRowContent, Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table/dist/esm/components/Table/index.js";
import TrashIcon from "@patternfly/react-icons/dist/esm/icons/trash-icon.js";

import { ErrorAlert } from "./common.jsx";
import * as vault from "./vault.js";

const _ = cockpit.gettext;

export function SecretDetails({ org, id, typeName, generation }) {
    const [meta, setMeta] = useState(null);
    const [error, setError] = useState(null);

    useEffect(() => {
        vault.getSecret(org, id).then(m => { setMeta(m); setError(null) }, setError);
    }, [org, id, generation]);

    if (error)
        return <ErrorAlert org={org} error={error} />;
    if (!meta)
        return <Spinner size="md" aria-label={_("Loading details")} />;
    const refs = meta.References;
    return (
        <DescriptionList className="ov-details" isHorizontal isCompact data-details-for={id}>
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Type")}</DescriptionListTerm>
                <DescriptionListDescription data-field="type">{typeName} ({meta.Type})</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Id")}</DescriptionListTerm>
                <DescriptionListDescription data-field="id"><code>{meta.Id}</code></DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Created")}</DescriptionListTerm>
                <DescriptionListDescription data-field="created">{vault.localTime(meta.Created)}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Updated")}</DescriptionListTerm>
                <DescriptionListDescription data-field="updated">{vault.localTime(meta.Updated)}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Version")}</DescriptionListTerm>
                <DescriptionListDescription data-field="version">{meta.Version}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Last used")}</DescriptionListTerm>
                <DescriptionListDescription data-field="last-used">
                    {meta.LastUsed
                        ? (meta.LastUsedBy
                            ? cockpit.format(_("$0 by $1"), vault.localTime(meta.LastUsed), meta.LastUsedBy)
                            : vault.localTime(meta.LastUsed))
                        : _("Never")}
                </DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
                <DescriptionListTerm>{_("Used by")}</DescriptionListTerm>
                <DescriptionListDescription data-field="references">
                    {refs.length === 0
                        ? _("No feature references this secret.")
                        : (
                            <List isPlain>
                                {refs.map(r => (
                                    <ListItem key={r.feature + "\0" + r.target}>
                                        {r.feature}: {r.target} <span className="ov-muted">{cockpit.format(_("(since $0)"), vault.localTime(r.created))}</span>
                                    </ListItem>
                                ))}
                            </List>
                        )}
                </DescriptionListDescription>
            </DescriptionListGroup>
        </DescriptionList>
    );
}

/* select: { selected, onSelect } turns the table into the picker's list. */
export function SecretsTable({ org, secrets, typeNames, generation, isAdmin, onDelete, select, emptyText }) {
    const [expanded, setExpanded] = useState({});

    if (secrets.length === 0)
        return (
            <EmptyState id="ov-empty" titleText={_("No secrets")} headingLevel="h3" variant="sm">
                <EmptyStateBody>{emptyText}</EmptyStateBody>
            </EmptyState>
        );

    const columns = (select ? 1 : 0) + 5 + (isAdmin && onDelete ? 1 : 0);
    return (
        <Table id="ov-secrets" aria-label={_("Secrets")} variant="compact">
            <Thead>
                <Tr>
                    {select && <Th screenReaderText={_("Select")} />}
                    <Th screenReaderText={_("Details")} />
                    <Th>{_("Name")}</Th>
                    <Th>{_("Created")}</Th>
                    <Th>{_("Type")}</Th>
                    <Th>{_("Used by")}</Th>
                    {isAdmin && onDelete && <Th screenReaderText={_("Actions")} />}
                </Tr>
            </Thead>
            {secrets.map((s, rowIndex) => {
                const isExpanded = !!expanded[s.id];
                const typeName = typeNames[s.type] || s.type;
                return (
                    <Tbody key={s.id} isExpanded={isExpanded}>
                        <Tr data-secret-id={s.id} className="ov-secret-row">
                            {select && (
                                <Td select={{
                                    rowIndex,
                                    variant: "radio",
                                    isSelected: select.selected === s.id,
                                    onSelect: () => select.onSelect(s),
                                }} />
                            )}
                            <Td expand={{
                                rowIndex,
                                isExpanded,
                                onToggle: () => setExpanded(e => ({ ...e, [s.id]: !e[s.id] })),
                                expandId: "ov-expand-",
                                rowLabeledBy: "ov-name-",
                            }} />
                            <Td dataLabel={_("Name")} className="ov-name" id={"ov-name-" + rowIndex}>{s.name}</Td>
                            <Td dataLabel={_("Created")} className="ov-created">{vault.localTime(s.created)}</Td>
                            <Td dataLabel={_("Type")} className="ov-type">{typeName}</Td>
                            <Td dataLabel={_("Used by")} className="ov-refs">{s.refs}</Td>
                            {isAdmin && onDelete && (
                                <Td isActionCell>
                                    <Button variant="plain" aria-label={cockpit.format(_("Delete $0"), s.name)} className="ov-delete"
                                            icon={<TrashIcon />} onClick={() => onDelete(s)} />
                                </Td>
                            )}
                        </Tr>
                        <Tr isExpanded={isExpanded} className="ov-details-row">
                            <Td colSpan={columns}>
                                {isExpanded && (
                                    <ExpandableRowContent>
                                        <SecretDetails org={org} id={s.id} typeName={typeName} generation={generation} />
                                    </ExpandableRowContent>
                                )}
                            </Td>
                        </Tr>
                    </Tbody>
                );
            })}
        </Table>
    );
}
