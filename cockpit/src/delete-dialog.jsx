/* SPDX-License-Identifier: Apache-2.0 */
/* Delete a secret (admins), after a confirmation naming it. A secret that
 * features still reference lists them and needs a second, explicit
 * confirmation before the page asks the daemon to delete it anyway (force);
 * without it the daemon refuses with InUse, and so does this dialog. */

/* global cockpit */

import React, { useEffect, useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Checkbox } from "@patternfly/react-core/dist/esm/components/Checkbox/index.js";
import { List, ListItem } from "@patternfly/react-core/dist/esm/components/List/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";

import { ErrorAlert } from "./common.jsx";
import * as vault from "./vault.js";

const _ = cockpit.gettext;

export function DeleteSecretDialog({ org, secret, typeName, onClose }) {
    const [refs, setRefs] = useState(null);
    const [confirmed, setConfirmed] = useState(false);
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);

    const loadRefs = () => vault.getSecret(org, secret.id).then(m => setRefs(m.References), setError);
    useEffect(() => { loadRefs() }, [org, secret.id]); // eslint-disable-line react-hooks/exhaustive-deps

    const inUse = refs && refs.length > 0;

    const remove = async () => {
        setError(null);
        setBusy(true);
        try {
            await vault.deleteSecret(org, secret.id, inUse && confirmed);
            onClose();
        } catch (ex) {
            setBusy(false);
            setError(ex);
            if (vault.isError(ex, "InUse")) {
                /* Referenced since the dialog opened: show what, ask again. */
                setConfirmed(false);
                loadRefs();
            }
        }
    };

    return (
        <Modal id="ov-delete-dialog" variant="small" isOpen onClose={onClose} aria-labelledby="ov-delete-title">
            <ModalHeader labelId="ov-delete-title" titleIconVariant="warning"
                         title={cockpit.format(_("Delete secret \"$0\"?"), secret.name)} />
            <ModalBody>
                {error && <ErrorAlert org={org} id="ov-delete-error" error={error} />}
                <p id="ov-delete-text">
                    {cockpit.format(_("The $0 \"$1\" of organization $2 will be deleted: it moves to the organization's trash, from which an administrator can restore it (orgvaultctl restore) until it is purged (after 30 days by default)."),
                                    typeName, secret.name, org)}
                </p>
                {!refs && !error && <Spinner size="md" aria-label={_("Loading references")} />}
                {inUse && (
                    <>
                        <Alert id="ov-delete-in-use" variant="warning" isInline
                               title={cockpit.format(cockpit.ngettext("Used by $0 feature: it will stop working",
                                                                      "Used by $0 features: they will stop working",
                                                                      refs.length), refs.length)}>
                            <List id="ov-delete-refs">
                                {refs.map(r => <ListItem key={r.feature + "\0" + r.target}>{r.feature}: {r.target}</ListItem>)}
                            </List>
                            <p>{_("Point them at another secret first, or delete anyway.")}</p>
                        </Alert>
                        <Checkbox id="ov-delete-force" isChecked={confirmed} onChange={(_ev, v) => setConfirmed(v)}
                                  label={_("Delete anyway: I understand that these features will stop working")} />
                    </>
                )}
            </ModalBody>
            <ModalFooter>
                <Button id="ov-delete-confirm" variant="danger" isLoading={busy}
                        isDisabled={!refs || busy || (inUse && !confirmed)} onClick={remove}>
                    {inUse ? _("Delete anyway") : _("Delete")}
                </Button>
                <Button id="ov-delete-cancel" variant="link" onClick={onClose}>{_("Cancel")}</Button>
            </ModalFooter>
        </Modal>
    );
}
