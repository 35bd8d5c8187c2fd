namespace InotifySim.Model;
public static class Placeholder { public static int X => 1; }
