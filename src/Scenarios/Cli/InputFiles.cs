using System.Runtime.InteropServices;
using System.Text;

namespace InotifySim.Scenarios.Cli;

/// <summary>
/// The one place the tool reads an input file (scripts, hunt summaries, and traces): it refuses
/// a directory ("is a directory"), a FIFO, device or socket ("not a regular file"), and a file
/// over a size cap ("too large"), so /dev/zero, a FIFO or a huge file is a one-line error
/// instead of a hang or an out-of-memory. Errors are <see cref="UsageException"/>s naming the file.
/// </summary>
public static class InputFiles
{
    /// <summary>A scenario script (.isim): the examples are under 2 KB.</summary>
    public const long MaxScriptBytes = 1 << 20;
    /// <summary>A hunt summary: about 150 bytes a unit; 64 MiB is ~400,000 units.</summary>
    public const long MaxSummaryBytes = 64L << 20;
    /// <summary>A trace file: the recorded ones are under 100 KB; the explorer's step bound keeps any well under this.</summary>
    public const long MaxTraceBytes = 64L << 20;

    /// <summary>
    /// Reads a UTF-8 text file of at most <paramref name="maxBytes"/> bytes. <paramref name="what"/>
    /// names the kind of file in the error ("script", "hunt summary", "trace").
    /// </summary>
    public static string ReadText(string path, string what, long maxBytes)
    {
        Check(path, what, maxBytes);
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var buf = new MemoryStream();
            var chunk = new byte[1 << 16];
            int n;
            while ((n = fs.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buf.Length + n > maxBytes)
                    throw new UsageException($"{path}: too large for a {what} (more than {maxBytes} bytes)");
                buf.Write(chunk, 0, n);
            }
            return new UTF8Encoding(false, false).GetString(buf.GetBuffer(), 0, (int)buf.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{path}: cannot read: {e.Message}");
        }
    }

    /// <summary>A path the file system APIs accept (no NUL byte); <paramref name="prefix"/> names the option.</summary>
    public static void CheckName(string path, string prefix)
    {
        if (path.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
            throw new UsageException($"{prefix}{path}: not a valid file name (it contains a character such as NUL that no file name can hold)");
    }

    /// <summary>
    /// The checks of <see cref="ReadText"/> without reading: for a reader the tool does not own
    /// yet (the trace loader), called before it.
    /// </summary>
    public static void Check(string path, string what, long maxBytes)
    {
        if (string.IsNullOrEmpty(path)) throw new UsageException($"empty file name for a {what}");
        CheckName(path, "");
        if (Directory.Exists(path)) throw new UsageException($"{path}: is a directory, not a {what}");
        if (!File.Exists(path)) throw new UsageException($"{path}: no such file");
        var kind = FileKind(path);
        if (kind is not null) throw new UsageException($"{path}: not a regular file ({kind}); a {what} must be a regular file");
        long length;
        try { length = new FileInfo(path).Length; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"{path}: cannot read: {e.Message}"); }
        if (length > maxBytes) throw new UsageException($"{path}: too large for a {what} (more than {maxBytes} bytes)");
    }

    // statx(2)'s struct layout is the same on every Linux architecture: stx_mode is the u16 at offset 28.
    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int statx(int dirfd, string pathname, int flags, uint mask, byte[] statxbuf);

    private const int AT_FDCWD = -100;
    private const uint STATX_TYPE = 1;

    /// <summary>Null for a regular file (or when the type cannot be told), else what it is.</summary>
    internal static string? FileKind(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var buf = new byte[256];
            if (statx(AT_FDCWD, path, 0, STATX_TYPE, buf) != 0) return null;
            int mode = BitConverter.ToUInt16(buf, 28) & 0xF000;
            return mode switch
            {
                0x8000 => null,            // S_IFREG
                0x1000 => "a FIFO",        // S_IFIFO
                0x2000 => "a character device",
                0x6000 => "a block device",
                0xC000 => "a socket",
                0x4000 => "a directory",
                _ => null,
            };
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or ArgumentException)
        {
            return null; // the size cap still bounds the read
        }
    }
}

/// <summary>
/// Output destinations (--json, --junit, --traces, --out, --html), checked before any work is
/// done so a long hunt never ends in "cannot write".
/// </summary>
public static class Destinations
{
    /// <summary>A file to be written: not a directory, its directory exists and is writable.</summary>
    public static void CheckFile(string path, string option)
    {
        InputFiles.CheckName(path, option + " ");
        if (Directory.Exists(path)) throw new UsageException($"{option} {path}: is a directory (expected a file name)");
        var full = Path.GetFullPath(path);
        // checked here, not when the work is done: NAME_MAX and PATH_MAX of Linux
        if (System.Text.Encoding.UTF8.GetByteCount(Path.GetFileName(full)) > 255)
            throw new UsageException($"{option} {path}: the file name is longer than 255 bytes");
        if (System.Text.Encoding.UTF8.GetByteCount(full) >= 4096)
            throw new UsageException($"{option} {path}: the path is longer than 4095 bytes");
        // opening a FIFO for writing blocks until a reader comes: never wait on one (a character device such as
        // /dev/null is a fine destination)
        if (File.Exists(full) && InputFiles.FileKind(full) is { } kind and not "a character device")
            throw new UsageException($"{option} {path}: not a regular file ({kind})");
        var dir = Path.GetDirectoryName(full);
        if (string.IsNullOrEmpty(dir)) return;
        if (File.Exists(dir)) throw new UsageException($"{option} {path}: {dir} is a file, not a directory");
        if (!Directory.Exists(dir)) throw new UsageException($"{option} {path}: directory {dir} does not exist");
        if (File.Exists(full))
        {
            try
            {
                using var _ = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"{option} {path}: not writable: {e.Message}");
            }
        }
        else Probe(dir, option, path);
    }

    /// <summary>
    /// The files one command reads and writes, by option: no two outputs may be the same file (one would overwrite
    /// the other), and no output may be an input (it would be destroyed). /dev/null may be named by every output.
    /// </summary>
    public static void CheckDistinct(IEnumerable<(string? path, string option, bool output)> files)
    {
        var seen = new List<(string full, string option, bool output, string path)>();
        foreach (var (path, option, output) in files)
        {
            if (path is null) continue;
            string full;
            try { full = Path.GetFullPath(path); }
            catch (Exception e) when (e is ArgumentException or IOException or NotSupportedException) { continue; }
            if (full == "/dev/null") continue;
            foreach (var (f, o, isOut, p) in seen)
            {
                if (f != full || (!output && !isOut)) continue;
                throw new UsageException($"{option} {path}: the same file as {o} {p} ({(isOut && output ? "two outputs would overwrite each other" : "the output would destroy the input")})");
            }
            seen.Add((full, option, output, path));
        }
    }

    /// <summary>A directory to write files into: created when missing (its parent must exist), writable.</summary>
    public static void CheckDirectory(string path, string option)
    {
        InputFiles.CheckName(path, option + " ");
        if (File.Exists(path)) throw new UsageException($"{option} {path}: is a file (expected a directory)");
        if (!Directory.Exists(path))
        {
            var parent = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(parent) && !Directory.Exists(parent))
                throw new UsageException($"{option} {path}: directory {parent} does not exist");
            try { Directory.CreateDirectory(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"{option} {path}: cannot create the directory: {e.Message}");
            }
        }
        Probe(Path.GetFullPath(path), option, path);
    }

    private static void Probe(string dir, string option, string path)
    {
        var probe = Path.Combine(dir, $".inotify-sim-probe-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{option} {path}: cannot write in {dir}: {e.Message}");
        }
    }
}
