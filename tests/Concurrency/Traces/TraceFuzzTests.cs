using System.Text.Json.Nodes;
using InotifySim.Scenarios.Traces;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Traces;

/// <summary>
/// A bounded, seeded fuzz of the recorded traces (issue 14): each file of traces/ is mutated (bytes, and the
/// schedule's lines: edited, dropped, duplicated, swapped, cut, taken from another trace) and replayed. Every
/// outcome must be an exit code of the contract (0 clean, 1 bug, 2 bad input, 5 diverged), never a stack trace,
/// errors on one line; and no mutated trace may be reported "reproduced" unless its schedule is exactly the
/// recorded one.
/// </summary>
public class TraceFuzzTests(ITestOutputHelper output)
{
    private const int MutationsPerTrace = 12;

    private static string Mutate(Random rng, string text, IReadOnlyList<string> others)
    {
        var node = JsonNode.Parse(text)!.AsObject();
        var s = node["schedule"]!.AsArray();
        int kind = rng.Next(8);
        switch (kind)
        {
            case 0: // one character replaced anywhere
            {
                int i = rng.Next(text.Length);
                return text[..i] + (char)rng.Next(32, 127) + text[(i + 1)..];
            }
            case 1: // one character deleted
            {
                int i = rng.Next(text.Length);
                return text.Remove(i, 1);
            }
            case 2: // a digit inside a schedule line changed
            {
                int i = rng.Next(s.Count);
                var line = s[i]!.GetValue<string>().ToCharArray();
                var digits = Enumerable.Range(0, line.Length).Where(k => char.IsDigit(line[k])).ToList();
                if (digits.Count > 0) line[digits[rng.Next(digits.Count)]] = (char)('0' + rng.Next(10));
                s[i] = new string(line);
                break;
            }
            case 3: s.RemoveAt(rng.Next(s.Count)); break;
            case 4: { int i = rng.Next(s.Count); s.Insert(i, s[i]!.GetValue<string>()); break; }
            case 5:
            {
                int i = rng.Next(s.Count), j = rng.Next(s.Count);
                var a = s[i]!.GetValue<string>();
                s[i] = s[j]!.GetValue<string>();
                s[j] = a;
                break;
            }
            case 6: { int keep = rng.Next(s.Count); while (s.Count > keep) s.RemoveAt(s.Count - 1); break; }
            default:
            {
                var other = JsonNode.Parse(others[rng.Next(others.Count)])!.AsObject();
                node["schedule"] = other["schedule"]!.DeepClone();
                node["preemptions"] = other["preemptions"]!.DeepClone();
                break;
            }
        }
        if (kind >= 2 && rng.Next(2) == 0)
        {
            // keep the preemption count consistent half of the time, so the replay itself is exercised
            try
            {
                var sched = node["schedule"]!.AsArray();
                node["preemptions"] = sched.Select((x, k) => TraceFile.ParseStep(x!.GetValue<string>(), k, "t")).Count(d => d.IsPreemption);
            }
            catch (TraceFormatException) { }
        }
        return node.ToJsonString();
    }

    [Fact]
    public void Mutated_traces_never_crash_and_never_falsely_reproduce()
    {
        var files = Directory.GetFiles(Approvals.TracesDir, "*.json").OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 10, $"only {files.Count} traces in {Approvals.TracesDir}");
        var texts = files.Select(File.ReadAllText).ToList();
        var rng = new Random(20261130);
        var dir = Directory.CreateTempSubdirectory("inotify-sim-trace-fuzz-").FullName;
        var counts = new Dictionary<int, int>();
        int reproducedUnchanged = 0;
        try
        {
            for (int f = 0; f < files.Count; f++)
            {
                var original = TraceFile.Parse(texts[f], files[f]).Decisions();
                for (int m = 0; m < MutationsPerTrace; m++)
                {
                    var mutated = Mutate(rng, texts[f], texts);
                    var path = Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(files[f])}-{m}.json");
                    File.WriteAllText(path, mutated);
                    var o = new StringWriter();
                    var e = new StringWriter();
                    int code = TraceCommands.Replay(path, false, null, o, e);
                    counts[code] = counts.GetValueOrDefault(code) + 1;
                    string all = o.ToString() + e;
                    Assert.True(code is 0 or 1 or 2 or TraceCommands.Diverged, $"{path}: exit {code}\n{all}");
                    Assert.DoesNotContain("   at ", all);
                    Assert.DoesNotContain("Unhandled exception", all);
                    if (code == 2) Assert.Single(e.ToString().TrimEnd('\n').Split('\n'));
                    if (o.ToString().Contains(": reproduced: ", StringComparison.Ordinal))
                    {
                        // only a schedule identical to the recorded one may reproduce
                        var t = TraceFile.Parse(mutated, path);
                        Assert.Equal(original, t.Decisions());
                        reproducedUnchanged++;
                    }
                }
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
        output.WriteLine($"{files.Count * MutationsPerTrace} mutated replays: " + string.Join(", ", counts.OrderBy(k => k.Key).Select(k => $"exit {k.Key}: {k.Value}")) +
                         $"; reproduced with the recorded schedule unchanged: {reproducedUnchanged}");
        Assert.True(counts.GetValueOrDefault(TraceCommands.Diverged) > 0, "no mutation diverged: the fuzz does not reach the replay");
        Assert.True(counts.GetValueOrDefault(2) > 0, "no mutation was refused as bad input");
    }
}
