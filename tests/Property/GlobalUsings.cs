// The reference specification and its operations live in src/Model/Spec (the run-time oracle uses them too).
global using InotifySim.Model.Spec;
