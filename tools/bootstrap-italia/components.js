// The Bootstrap Italia components the platform's pages use; each registers its data API
// (data-bs-toggle="navbarcollapsible" | "collapse" | "dropdown" | "modal", data-bs-dismiss).
export { NavBarCollapsible, Collapse, Dropdown, Modal, Alert, Accordion } from "bootstrap-italia";
