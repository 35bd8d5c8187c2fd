namespace InotifySim.Tests.Property;
public class SmokeTests { [Fact] public void Builds() => Assert.Equal(1, InotifySim.Model.Placeholder.X); }
