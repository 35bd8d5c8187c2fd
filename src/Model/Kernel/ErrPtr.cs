namespace InotifySim.Model.Kernel;

/// <summary>
/// A pointer that may carry an error, as include/linux/err.h encodes -errno in a pointer:
/// a function returns ERR_PTR(-ENOMEM) or the object; the caller tests IS_ERR and takes
/// PTR_ERR. Dereferencing an error pointer (the explicit cast) is a model bug.
/// </summary>
public readonly struct ErrPtr<T> where T : class
{
    private readonly T? _ptr;
    private readonly long _err;

    private ErrPtr(T? ptr, long err)
    {
        _ptr = ptr;
        _err = err;
    }

    internal bool IsErr => _ptr is null;
    internal long Err => _err;

    public static implicit operator ErrPtr<T>(T ptr) => new(ptr ?? throw new ArgumentNullException(nameof(ptr), "a NULL pointer is not an ERR_PTR"), 0);
    public static implicit operator ErrPtr<T>(ErrorValue e) => new(null, e.Error);

    /// <summary>The pointer (after IS_ERR said it is one).</summary>
    public static explicit operator T(ErrPtr<T> p) =>
        p._ptr ?? throw new InvalidOperationException($"dereference of ERR_PTR({p._err})");
}

/// <summary>What ERR_PTR returns before it takes the caller's pointer type.</summary>
public readonly record struct ErrorValue(long Error);

/// <summary>ERR_PTR / IS_ERR / PTR_ERR (include/linux/err.h); use with <c>using static</c>.</summary>
public static class Err
{
    /// <summary>ERR_PTR(error): an error code (-errno) in place of a pointer.</summary>
    public static ErrorValue ERR_PTR(long error)
    {
        if (error >= 0 || error < -4095) throw new ArgumentOutOfRangeException(nameof(error), error, "ERR_PTR takes -errno (MAX_ERRNO 4095)");
        return new ErrorValue(error);
    }

    public static bool IS_ERR<T>(ErrPtr<T> p) where T : class => p.IsErr;

    public static long PTR_ERR<T>(ErrPtr<T> p) where T : class => p.IsErr ? p.Err : 0;
}
