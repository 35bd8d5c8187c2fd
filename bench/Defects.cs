using InotifySim.Model;
using InotifySim.Model.Kernel;

namespace InotifySim.Bench;

/// <summary>
/// A bench pairing: a registry defect (src/Model/Defects.cs), one scenario that shows it (run on
/// Variants.ForDefect), and the report it must produce (the registry's <see cref="ExpectedReport"/>:
/// its class, naming its functions). A probe is a pairing expected NOT to find the defect.
/// </summary>
public sealed record Pairing(Model.Defect Of, Showing Where, string Why, bool Probe = false)
{
    public string Fix => Of.Name;
    public string Scenario => Where.Scenario;
    public bool Faults => Where.Faults;
    public Fix Flag => Of.Fix;
    public string Key => Faults ? $"{Fix} @ {Scenario}+faults" : $"{Fix} @ {Scenario}";

    public bool Matches(Report r) => Where.Report.Matches(r);

    public string Expected => Where.Report.ToString();
}

public static class Pairings
{
    /// <summary>
    /// Every showing of every registry defect in a catalogue scenario (the docs/findings.md table),
    /// then the probes. The probe: without fault injection
    /// no early return of inotify_dev_queue_event is reachable in event-vs-rm (no duplicate event,
    /// no event past the overflow), so ev-mutex-unlock shows there only with faults.
    /// </summary>
    public static readonly IReadOnlyList<Pairing> All =
        Defects.All.SelectMany(d => d.Shows.Where(s => s.InCatalogue).Select(s => new Pairing(d, s, d.Bug)))
            .Append(Probe("ev-mutex-unlock", "event-vs-rm",
                "probe: no early-return path is reachable here without faults (no duplicate event, no event past the overflow)"))
            .ToList();

    private static Pairing Probe(string defect, string scenario, string why)
    {
        var d = Defects.ByName(defect)!;
        var faulty = d.Shows.First(s => s.Scenario == scenario);
        return new Pairing(d, faulty with { Faults = false }, why, Probe: true);
    }
}
