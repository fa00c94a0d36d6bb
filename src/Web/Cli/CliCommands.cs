namespace Sft.Web.Cli;

/// <summary>The commands of the executable besides serving: <c>Sft.Web &lt;name&gt; [options]</c>.</summary>
public static class CliCommands
{
    public delegate Task<int> Command(string[] args);

    static readonly Dictionary<string, Command> Commands = new(StringComparer.Ordinal)
    {
        ["tokenize"] = TokenizeCommand.RunAsync,
        ["score"] = ScoreCommand.RunAsync,
        ["create-model"] = CreateModelCommand.RunAsync,
        ["finetune"] = FinetuneCommand.RunAsync,
        ["merge-lora"] = MergeLoraCommand.RunAsync,
        [CheckConfigCommand.Name] = CheckConfigCommand.Run,
        [CreateApiKeyCommand.Name] = CreateApiKeyCommand.RunAsync,
    };

    public static IReadOnlyCollection<string> Names => Commands.Keys;

    public static bool TryGet(string name, out Command command) => Commands.TryGetValue(name, out command!);
}
