/* SPDX-License-Identifier: Apache-2.0 */
/* Entry point: the Secrets page, or the picker when opened as
 * index.html#/pick?feature=<feature> (docs/COCKPIT.md). */

/* global cockpit */

import "@patternfly/patternfly/patternfly-base.css";
import "./page.css";

import React, { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

import { SecretsPage } from "./secrets-page.jsx";
import { PickerPage } from "./picker.jsx";

function Router() {
    const [loc, setLoc] = useState({ path: cockpit.location.path, options: cockpit.location.options });

    useEffect(() => {
        const changed = () => setLoc({ path: cockpit.location.path, options: cockpit.location.options });
        cockpit.addEventListener("locationchanged", changed);
        return () => cockpit.removeEventListener("locationchanged", changed);
    }, []);

    if (loc.path[0] === "pick")
        return <PickerPage feature={loc.options.feature || ""} org={loc.options.org || ""} />;
    return <SecretsPage org={loc.options.org || ""} />;
}

document.addEventListener("DOMContentLoaded", () => {
    cockpit.translate();
    createRoot(document.getElementById("app")).render(<Router />);
});
