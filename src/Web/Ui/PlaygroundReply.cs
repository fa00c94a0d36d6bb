using System.Diagnostics;
using System.Text;

namespace Sft.Web.Ui;

/// <summary>The state of one Playground pane's answer; changed only on the page's render thread.</summary>
public sealed class PlaygroundReply
{
    readonly StringBuilder _text = new();
    readonly Stopwatch _clock = new();

    /// <summary>idle, loading, generating, done, stopped or failed.</summary>
    public string State { get; private set; } = "idle";
    public string Text => _text.ToString();
    public string? Error { get; private set; }
    public int Pieces { get; private set; }
    public double Seconds => _clock.Elapsed.TotalSeconds;

    public void Start()
    {
        _text.Clear();
        Error = null;
        Pieces = 0;
        State = "loading";
        _clock.Restart();
    }

    public void Append(string piece)
    {
        _text.Append(piece);
        Pieces++;
        State = "generating";
    }

    public void Finish(bool stopped)
    {
        _clock.Stop();
        State = stopped ? "stopped" : "done";
    }

    public void Fail(string message)
    {
        _clock.Stop();
        Error = message;
        State = "failed";
    }
}
