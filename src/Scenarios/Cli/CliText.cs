using System.Globalization;
using System.Text;

namespace InotifySim.Scenarios.Cli;

/// <summary>
/// Output hygiene for anything that echoes user input: every error and warning line goes
/// through <see cref="Sanitize"/>, so a message is one line, bounded, and carries no raw
/// control characters, NUL bytes or terminal escape sequences.
/// </summary>
public static class CliText
{
    /// <summary>A run of non-blank characters longer than this is cut, with an ellipsis.</summary>
    public const int MaxToken = 80;
    /// <summary>A whole line longer than this is cut, with an ellipsis.</summary>
    public const int MaxLine = 2000;

    /// <summary>
    /// Escapes control characters (\n, \r, \t, \0, \x1b ..., C1 controls, bidirectional and
    /// other invisible format characters) and truncates tokens over <see cref="MaxToken"/>
    /// characters and lines over <see cref="MaxLine"/>.
    /// </summary>
    public static string Sanitize(string? s)
    {
        if (string.IsNullOrEmpty(s)) return "";
        var sb = new StringBuilder(Math.Min(s.Length, MaxLine) + 16);
        int token = 0;
        bool cut = false;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == ' ')
            {
                token = 0;
                cut = false;
                sb.Append(c);
            }
            else
            {
                if (cut) continue;
                string piece = Escape(c, s, ref i);
                if (token + piece.Length > MaxToken)
                {
                    sb.Append('…');
                    cut = true;
                    continue;
                }
                token += piece.Length;
                sb.Append(piece);
            }
            if (sb.Length > MaxLine)
            {
                sb.Length = MaxLine;
                sb.Append('…');
                break;
            }
        }
        return sb.ToString();
    }

    private static string Escape(char c, string s, ref int i)
    {
        switch (c)
        {
            case '\n': return "\\n";
            case '\r': return "\\r";
            case '\t': return "\\t";
            case '\0': return "\\0";
            case '\\': return "\\";
        }
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            var pair = s.Substring(i, 2);
            i++;
            var cat = CharUnicodeInfo.GetUnicodeCategory(pair, 0);
            return cat is UnicodeCategory.Format or UnicodeCategory.PrivateUse ? $"\\u{{{char.ConvertToUtf32(pair, 0):x}}}" : pair;
        }
        if (char.IsSurrogate(c)) return $"\\u{(int)c:x4}";
        if (c < 0x20 || c == 0x7f) return $"\\x{(int)c:x2}";
        var category = CharUnicodeInfo.GetUnicodeCategory(c);
        if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            return $"\\u{(int)c:x4}";
        return c.ToString();
    }
}

/// <summary>
/// Wraps an error stream: every line written through it is sanitized (<see cref="CliText.Sanitize"/>),
/// so code that reports errors (the trace commands, the explorer) cannot echo raw input.
/// </summary>
public sealed class SanitizingWriter(TextWriter inner) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        if (value == '\n')
        {
            inner.WriteLine(CliText.Sanitize(_line.ToString()));
            _line.Clear();
        }
        else if (_line.Length < 1 << 20) _line.Append(value);
    }

    public override void Write(string? value)
    {
        if (value is null) return;
        foreach (var c in value) Write(c);
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        Write('\n');
    }

    public override void Flush()
    {
        if (_line.Length > 0)
        {
            inner.Write(CliText.Sanitize(_line.ToString()));
            _line.Clear();
        }
        inner.Flush();
    }
}
