using System.Globalization;
using System.Text;
using System.Xml;

namespace InotifySim.Scenarios.Cli;

/// <summary>One failure of a JUnit test case: a bug.</summary>
public sealed record JUnitFailure(string Type, string Message, string Details);

/// <summary>One JUnit test case: a scenario (hunt, verify) or a trace (replay).</summary>
public sealed record JUnitCase(string ClassName, string Name, double Seconds, IReadOnlyList<JUnitFailure> Failures, string? Skipped = null);

/// <summary>
/// JUnit XML, the format CI systems render (GitHub, GitLab, Jenkins, Azure): one
/// &lt;testsuite&gt; of &lt;testcase&gt;s, a &lt;failure&gt; per bug. Reusable by every command
/// (hunt, merge, and replay/verify): build the cases, call <see cref="Write"/>.
/// Characters XML cannot carry (control characters from input) are escaped.
/// </summary>
public static class JUnitWriter
{
    public static string Render(string suite, IReadOnlyList<JUnitCase> cases, double seconds)
    {
        var sb = new StringBuilder();
        var settings = new XmlWriterSettings { Indent = true, OmitXmlDeclaration = false, Encoding = new UTF8Encoding(false) };
        using (var sw = new StringWriterUtf8(sb))
        using (var w = XmlWriter.Create(sw, settings))
        {
            string F(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);
            w.WriteStartDocument();
            w.WriteStartElement("testsuites");
            w.WriteAttributeString("name", Clean(suite));
            w.WriteAttributeString("tests", cases.Count.ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("failures", cases.Count(c => c.Failures.Count > 0).ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("time", F(seconds));
            w.WriteStartElement("testsuite");
            w.WriteAttributeString("name", Clean(suite));
            w.WriteAttributeString("tests", cases.Count.ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("failures", cases.Count(c => c.Failures.Count > 0).ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("errors", "0");
            w.WriteAttributeString("skipped", cases.Count(c => c.Skipped != null).ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("time", F(seconds));
            foreach (var c in cases)
            {
                w.WriteStartElement("testcase");
                w.WriteAttributeString("classname", Clean(c.ClassName));
                w.WriteAttributeString("name", Clean(c.Name));
                w.WriteAttributeString("time", F(c.Seconds));
                if (c.Skipped != null)
                {
                    w.WriteStartElement("skipped");
                    w.WriteAttributeString("message", Clean(c.Skipped));
                    w.WriteEndElement();
                }
                foreach (var f in c.Failures)
                {
                    w.WriteStartElement("failure");
                    w.WriteAttributeString("type", Clean(f.Type));
                    w.WriteAttributeString("message", Clean(f.Message));
                    w.WriteString(Clean(f.Details));
                    w.WriteEndElement();
                }
                w.WriteEndElement();
            }
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndDocument();
        }
        return sb.Append('\n').ToString();
    }

    /// <summary>Writes the report; a failure is an IOException/UnauthorizedAccessException for the caller to report.</summary>
    public static void Write(string path, string suite, IReadOnlyList<JUnitCase> cases, double seconds) =>
        File.WriteAllText(path, Render(suite, cases, seconds), new UTF8Encoding(false));

    /// <summary>Keeps tabs and newlines; escapes every other character XML 1.0 cannot carry.</summary>
    private static string Clean(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '\t' or '\n' or '\r') sb.Append(c);
            else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { sb.Append(c).Append(s[++i]); }
            else if (c < 0x20 || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF') sb.Append($"\\x{(int)c:x2}");
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private sealed class StringWriterUtf8(StringBuilder sb) : StringWriter(sb, CultureInfo.InvariantCulture)
    {
        public override Encoding Encoding => new UTF8Encoding(false);
    }
}

/// <summary>GitHub Actions workflow commands: an error annotation per bug when GITHUB_ACTIONS=true.</summary>
public static class GitHubAnnotations
{
    public static bool Enabled(Func<string, string?> env) => env("GITHUB_ACTIONS") == "true";

    /// <summary>"::error title=T::message" with the workflow-command escapes (% CR LF, and : , in properties).</summary>
    public static string Error(string title, string message, string? file = null)
    {
        var props = (file is null ? "" : $"file={Property(file)},") + $"title={Property(title)}";
        return $"::error {props}::{Data(message)}";
    }

    private static string Data(string s) => s.Replace("%", "%25").Replace("\r", "%0D").Replace("\n", "%0A");
    private static string Property(string s) => Data(s).Replace(":", "%3A").Replace(",", "%2C");
}
