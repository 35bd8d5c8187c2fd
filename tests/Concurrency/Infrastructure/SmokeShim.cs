// The skeleton's tests/Concurrency/SmokeTests.cs still reads InotifySim.Model.Placeholder.X, a type
// that commit 02805a2 deleted from the Model assembly. Until the owner of SmokeTests.cs removes
// that placeholder test, this shim keeps the test assembly compiling. Delete it together with
// SmokeTests.cs.
namespace InotifySim.Model
{
    internal static class Placeholder
    {
        public const int X = 1;
    }
}
