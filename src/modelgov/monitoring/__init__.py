"""Production monitoring: aggregate scoring logs window by window, out of core, and compare each
window with the reference data the model was evaluated on."""
