/* SPDX-License-Identifier: Apache-2.0 */
/* Add a secret (admins): type (grouped by category, with what uses it) and
 * its fields → Next, which asks the daemon to validate without saving
 * (AddSecret validate_only) and puts a rejected field's message on that field
 * → display name → Add.
 *
 * Values: secret fields are password inputs left uncontrolled, so React never
 * writes a value into a DOM attribute; what was typed lives in one object
 * held by a ref, handed to the call and dropped (with the inputs) when the
 * dialog closes, on success or cancel. Nothing of it reaches state, the
 * location or storage. */

/* global cockpit */

import React, { useEffect, useMemo, useRef, useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Form, FormGroup, FormHelperText } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import {
    FormSelect, FormSelectOption, FormSelectOptionGroup,
} from "@patternfly/react-core/dist/esm/components/FormSelect/index.js";
import { HelperText, HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Spinner } from "@patternfly/react-core/dist/esm/components/Spinner/index.js";
import { TextInput } from "@patternfly/react-core/dist/esm/components/TextInput/index.js";

import { ErrorAlert } from "./common.jsx";
import * as vault from "./vault.js";

const _ = cockpit.gettext;

function TypeSelect({ types, value, onChange }) {
    const groups = useMemo(() => {
        const g = new Map();
        for (const t of types) {
            const label = vault.categoryLabel(t.category);
            if (!g.has(label))
                g.set(label, []);
            g.get(label).push(t);
        }
        /* The product page's order: notification, AI, telephony, then others. */
        const rank = l => { const i = Object.values(vault.CATEGORY_LABELS).indexOf(l); return i < 0 ? 99 : i };
        return [...g.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
    }, [types]);

    return (
        <FormSelect id="ov-add-type" value={value} onChange={(_ev, v) => onChange(v)} aria-label={_("Secret type")}>
            <FormSelectOption isPlaceholder isDisabled value="" label={_("Choose a type")} />
            {groups.map(([label, list]) => (
                <FormSelectOptionGroup key={label} label={label}>
                    {list.map(t => (
                        <FormSelectOption key={t.id} value={t.id}
                                          label={cockpit.format(_("$0 — used by $1"), t.name, t.usedBy.join(", ") || _("no feature"))} />
                    ))}
                </FormSelectOptionGroup>
            ))}
        </FormSelect>
    );
}

function FieldInput({ field, error, warnings, onInput, enumValue }) {
    const inputId = "ov-field-" + field.id;
    const validated = error ? "error" : (warnings && warnings.length ? "warning" : "default");
    let input;
    if (field.allowed && field.allowed.length > 0)
        input = (
            <FormSelect id={inputId} value={enumValue} validated={validated} aria-label={field.label}
                        onChange={(_ev, v) => onInput(field.id, v)}>
                <FormSelectOption isPlaceholder value="" label={cockpit.format(_("Choose $0"), field.label)} />
                {field.allowed.map(a => <FormSelectOption key={a} value={a} label={a} />)}
            </FormSelect>
        );
    else
        input = (
            <TextInput id={inputId} name={field.id} isRequired={field.required} validated={validated}
                       type={field.secret ? "password" : (field.kind === "url" ? "url" : "text")}
                       autoComplete={field.secret ? "new-password" : "off"} spellCheck={false}
                       onChange={(_ev, v) => onInput(field.id, v)} />
        );
    return (
        <FormGroup label={field.label} isRequired={field.required} fieldId={inputId} data-field={field.id}>
            {input}
            <FormHelperText>
                <HelperText>
                    {error
                        ? <HelperTextItem variant="error" className="ov-field-error">{error}</HelperTextItem>
                        : null}
                    {(warnings || []).map(w => (
                        <HelperTextItem key={w} variant="warning" className="ov-field-warning">{w}</HelperTextItem>
                    ))}
                    <HelperTextItem className="ov-field-description">
                        {field.description}{field.secret ? " " + _("Not shown again once saved.") : ""}
                    </HelperTextItem>
                </HelperText>
            </FormHelperText>
        </FormGroup>
    );
}

/* types: the types offered (the picker passes only those its feature uses).
 * onAdded(id) after a successful add. */
export function AddSecretDialog({ org, types, onClose, onAdded }) {
    const [step, setStep] = useState("fields");
    const [type, setType] = useState(types.length === 1 ? types[0].id : "");
    const [fields, setFields] = useState(null);
    const [notes, setNotes] = useState([]);
    const [enums, setEnums] = useState({});
    const [fieldErrors, setFieldErrors] = useState({});
    const [warnings, setWarnings] = useState(null);
    const [name, setName] = useState("");
    const [nameError, setNameError] = useState("");
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);
    const values = useRef({});
    const typeInfo = types.find(t => t.id === type);

    useEffect(() => {
        values.current = {};
        setFields(null);
        setEnums({});
        setFieldErrors({});
        setWarnings(null);
        setError(null);
        if (!type)
            return;
        let live = true;
        Promise.all([vault.describeType(type), vault.describeTypeNotes(type)])
                .then(([f, n]) => { if (live) { setFields(f); setNotes(n) } })
                .catch(ex => { if (live) setError(ex) });
        return () => { live = false };
    }, [type]);

    /* Drop every typed value when the dialog goes away. */
    useEffect(() => () => { values.current = {} }, []);

    const close = () => {
        values.current = {};
        onClose();
    };

    const onInput = (id, v) => {
        values.current[id] = v;
        if (fields && fields.find(f => f.id === id)?.allowed?.length)
            setEnums(e => ({ ...e, [id]: v }));
        /* What was said about the old value no longer holds. */
        setFieldErrors(e => (e[id] ? { ...e, [id]: undefined } : e));
        setWarnings(null);
    };

    /* Every field of the type, "" for the untouched ones, so the daemon
     * names a missing required field like any other. */
    const collect = () => {
        const out = {};
        for (const f of fields) {
            const v = values.current[f.id] || "";
            if (v !== "" || f.required)
                out[f.id] = v;
        }
        return out;
    };

    const fieldIds = (fields || []).map(f => f.id);

    const showFieldError = (ex) => {
        const parts = vault.splitInvalidField(ex.message || "", fieldIds);
        const { "": general, ...byField } = parts;
        setFieldErrors(byField);
        if (general || Object.keys(byField).length === 0)
            setError({ ...vault.explain(ex, org), title: _("Check the values"), todo: _("Correct the marked fields and press Next again.") });
    };

    const next = async () => {
        setError(null);
        setFieldErrors({});
        if (warnings) {
            /* Warnings were shown on the fields; a second Next accepts them. */
            setStep("name");
            return;
        }
        setBusy(true);
        try {
            /* The name is chosen after this step: validate_only takes none. */
            const { warnings: w } = await vault.addSecret(org, type, "", collect(), { validateOnly: true });
            if (w && w.length > 0)
                setWarnings(w);
            else
                setStep("name");
        } catch (ex) {
            if (vault.isError(ex, "InvalidField"))
                showFieldError(ex);
            else if (ex.name === "org.freedesktop.DBus.Error.InvalidArgs" && /validate_only/.test(ex.message || ""))
                setStep("name");        /* a daemon older than validate_only: Add validates */
            else
                setError(ex);
        } finally {
            setBusy(false);
        }
    };

    const add = async () => {
        setError(null);
        setNameError("");
        setBusy(true);
        try {
            const { id } = await vault.addSecret(org, type, name.trim(), collect());
            values.current = {};
            onClose();
            if (onAdded)
                onAdded(id);
        } catch (ex) {
            setBusy(false);
            if (vault.isError(ex, "NameExists"))
                setNameError(_("Another secret of this organization has this name (names ignore case). Choose another."));
            else if (vault.isError(ex, "InvalidField")) {
                setStep("fields");
                showFieldError(ex);
            } else if (ex.name === "org.freedesktop.DBus.Error.InvalidArgs" && /name/i.test(ex.message || ""))
                setNameError(ex.message);
            else
                setError(ex);
        }
    };

    const split = vault.splitWarnings(warnings, fieldIds);

    return (
        <Modal id="ov-add-dialog" variant="medium" isOpen onClose={close} aria-labelledby="ov-add-title">
            <ModalHeader labelId="ov-add-title"
                         title={step === "fields" ? _("Add secret") : _("Add secret: display name")}
                         description={step === "fields"
                             ? _("Choose the type of credential and enter what it needs.")
                             : cockpit.format(_("A $0 for organization $1."), typeInfo?.name || type, org)} />
            <ModalBody>
                {error && <ErrorAlert org={org} id="ov-add-error" error={error} />}
                <Form id="ov-add-fields" className={step === "fields" ? "" : "ov-hidden"}
                      onSubmit={ev => { ev.preventDefault(); if (fields && !busy) next() }}>
                    <FormGroup label={_("Type")} isRequired fieldId="ov-add-type">
                        <TypeSelect types={types} value={type} onChange={setType} />
                    </FormGroup>
                    {notes.length > 0 && (
                        <Alert variant="info" isInline isPlain title={_("About this type")} id="ov-type-notes">
                            {notes.map(n => <p key={n}>{n}</p>)}
                        </Alert>
                    )}
                    {type && !fields && !error && <Spinner size="md" aria-label={_("Loading fields")} />}
                    {fields && fields.map(f => (
                        <FieldInput key={type + "/" + f.id} field={f} error={fieldErrors[f.id]}
                                    warnings={split.byField[f.id]} enumValue={enums[f.id] || ""} onInput={onInput} />
                    ))}
                    {warnings && split.general.length > 0 && (
                        <Alert id="ov-add-warnings" variant="warning" isInline title={_("Check before going on")}>
                            {split.general.map(w => <p key={w}>{w}</p>)}
                        </Alert>
                    )}
                    {warnings && (
                        <HelperText id="ov-warnings-accept">
                            <HelperTextItem variant="warning">
                                {_("The daemon accepted the values with warnings. Correct them, or press Next again to go on.")}
                            </HelperTextItem>
                        </HelperText>
                    )}
                    <button type="submit" hidden />
                </Form>
                {step === "name" && (
                    <Form id="ov-add-name-form" onSubmit={ev => { ev.preventDefault(); if (name.trim() && !busy) add() }}>
                        {warnings && (
                            <Alert id="ov-add-name-warnings" variant="warning" isInline isPlain title={_("Accepted with warnings")}>
                                {warnings.map(w => <p key={w}>{w}</p>)}
                            </Alert>
                        )}
                        <FormGroup label={_("Display name")} isRequired fieldId="ov-add-name">
                            <TextInput id="ov-add-name" value={name} validated={nameError ? "error" : "default"}
                                       onChange={(_ev, v) => { setName(v); setNameError("") }} autoFocus />
                            <FormHelperText>
                                <HelperText>
                                    {nameError
                                        ? <HelperTextItem variant="error" id="ov-add-name-error">{nameError}</HelperTextItem>
                                        : <HelperTextItem>{_("How the secret appears in lists and pickers, e.g. \"Ops Slack\".")}</HelperTextItem>}
                                </HelperText>
                            </FormHelperText>
                        </FormGroup>
                    </Form>
                )}
            </ModalBody>
            <ModalFooter>
                {step === "fields"
                    ? (
                        <Button id="ov-add-next" variant="primary" isDisabled={!fields || busy} isLoading={busy}
                                onClick={next}>
                            {_("Next")}
                        </Button>
                    )
                    : (
                        <>
                            <Button id="ov-add-submit" variant="primary" isDisabled={!name.trim() || busy}
                                    isLoading={busy} onClick={add}>
                                {_("Add")}
                            </Button>
                            <Button id="ov-add-back" variant="secondary" isDisabled={busy}
                                    onClick={() => { setStep("fields"); setWarnings(null) }}>
                                {_("Back")}
                            </Button>
                        </>
                    )}
                <Button id="ov-add-cancel" variant="link" onClick={close}>{_("Cancel")}</Button>
            </ModalFooter>
        </Modal>
    );
}
