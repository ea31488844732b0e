// SPDX-License-Identifier: Apache-2.0
// Receives the picker's choice: same origin only, and only its message type.
window.addEventListener("message", ev => {
    if (ev.origin !== window.location.origin || !ev.data || ev.data.type !== "orgvault-secret-picked")
        return;
    document.getElementById("result").textContent = JSON.stringify(ev.data);
});
