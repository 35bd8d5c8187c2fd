// inotify-sim: the command-line tool (see README "## Command line" and `inotify-sim help`).
return InotifySim.Scenarios.Cli.CliMain.Execute(args);
