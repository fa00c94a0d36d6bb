using Sft.Data.Datasets;
using Sft.Training.Checkpoints;
using Sft.Training.Lora;
using Sft.Training.Models;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;
using static TorchSharp.torch;

namespace Sft.Training.Generation;

/// <summary>What <see cref="InferenceModel.Load"/> reads: a base HF folder, and optionally a checkpoint of a run
/// (a full HF model folder, or a PEFT adapter applied on top of the base).</summary>
public sealed record InferenceSource(string BaseFolder, string? CheckpointFolder = null)
{
    public override string ToString() => CheckpointFolder is null ? BaseFolder : $"{CheckpointFolder} (base {BaseFolder})";
}

/// <summary>Which weights an <see cref="InferenceModel"/> holds.</summary>
public enum InferenceWeights { Base, FullCheckpoint, Adapter }

/// <summary>
/// A model ready for generation: the weights of a base folder or of a run's checkpoint (an adapter is injected into
/// the base and, by default, merged so that generation costs what the base costs), its tokenizer and prompt
/// template. Generation runs on the caller's thread with grad off; use one thread per generation.
/// </summary>
public sealed class InferenceModel : IDisposable
{
    public CausalLM Model { get; }
    public InferenceSource Source { get; }
    public InferenceWeights Weights { get; }
    /// <summary>Number of adapted linear layers (0 without an adapter).</summary>
    public int AdapterLayers { get; }
    /// <summary>The tokenizer found in the checkpoint or base folder; null when neither has tokenizer files.</summary>
    public HfTokenizer? Tokenizer { get; }

    InferenceModel(CausalLM model, InferenceSource source, InferenceWeights weights, int adapterLayers, HfTokenizer? tokenizer)
    {
        Model = model; Source = source; Weights = weights; AdapterLayers = adapterLayers; Tokenizer = tokenizer;
    }

    /// <summary>
    /// Loads <paramref name="source"/>. A checkpoint with <c>adapter_config.json</c> is a PEFT adapter on the base;
    /// one with <c>config.json</c> is a full model (the base is then not read). Missing folders and files, and adapters
    /// that do not fit the base, are errors naming the file.
    /// </summary>
    public static InferenceModel Load(InferenceSource source, bool mergeAdapter = true, Device? device = null)
    {
        if (!Directory.Exists(source.BaseFolder))
            throw new DirectoryNotFoundException($"Base model folder not found: {source.BaseFolder}");
        var options = new ModelLoadOptions { Device = device, Dtype = ScalarType.Float32 };
        if (source.CheckpointFolder is not { } checkpoint)
            return Finish(HfModelFolder.Load(source.BaseFolder, options), source, InferenceWeights.Base, 0);
        if (!Directory.Exists(checkpoint)) throw new DirectoryNotFoundException($"Checkpoint folder not found: {checkpoint}");

        if (File.Exists(Path.Combine(checkpoint, PeftAdapter.ConfigFile)))
        {
            var settings = PeftAdapter.ReadSettings(checkpoint);
            var model = HfModelFolder.Load(source.BaseFolder, options);
            try
            {
                var adapters = LoraInjector.Inject(model, settings);
                PeftAdapter.LoadWeights(checkpoint, adapters);
                if (mergeAdapter) foreach (var (_, layer) in adapters) layer.Merge();
                return Finish(model, source, InferenceWeights.Adapter, adapters.Count);
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        if (File.Exists(Path.Combine(checkpoint, HfModelFolder.ConfigFile)))
            return Finish(HfModelFolder.Load(checkpoint, options), source, InferenceWeights.FullCheckpoint, 0);
        throw new FileNotFoundException(
            $"{checkpoint} is neither a PEFT adapter ({PeftAdapter.ConfigFile} missing) nor a model folder ({HfModelFolder.ConfigFile} missing).",
            Path.Combine(checkpoint, HfModelFolder.ConfigFile));
    }

    static InferenceModel Finish(CausalLM model, InferenceSource source, InferenceWeights weights, int adapterLayers)
    {
        try
        {
            model.eval();
            var tokenizerFolder = new[] { source.CheckpointFolder, source.BaseFolder }
                .FirstOrDefault(f => f is not null && HfModelFolder.TokenizerFiles.Any(t => File.Exists(Path.Combine(f, t))));
            var tokenizer = tokenizerFolder is null ? null : HfTokenizer.FromDirectory(tokenizerFolder);
            return new InferenceModel(model, source, weights, adapterLayers, tokenizer);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The template <paramref name="configured"/> names, else the one the tokenizer's chat template implies.</summary>
    public PromptTemplate Template(string? configured = null) => PromptTemplates.Resolve(configured, RequireTokenizer());

    /// <summary>
    /// Answers one user message: renders it with <paramref name="template"/> (the tokenizer's own when null), streams
    /// the reply as text pieces as tokens are produced (an incomplete multi-byte character waits for its next token),
    /// and stops at the tokenizer's stop tokens or after <see cref="GenerationOptions.MaxNewTokens"/>. Stops early
    /// when <paramref name="ct"/> is cancelled.
    /// </summary>
    public IEnumerable<string> StreamReply(string userMessage, GenerationOptions options, PromptTemplate? template = null,
        string? system = null, CancellationToken ct = default)
    {
        var tokenizer = RequireTokenizer();
        if (string.IsNullOrWhiteSpace(userMessage)) throw new ArgumentException("The prompt is empty; type a message.");
        template ??= Template();
        var prompt = template.RenderGenerationPrompt(new Conversation([new Turn(Role.User, userMessage)], system), TemplateTokens.Of(tokenizer));
        var ids = tokenizer.Encode(prompt).Select(i => (long)i).ToList();
        var stops = options.EosTokenIds ?? tokenizer.Special.StopIds.Select(i => (long)i).Concat(Model.Generation.EosTokenIds).Distinct().ToList();
        var decoder = tokenizer.CreateStreamingDecoder(skipSpecialTokens: true);
        foreach (var id in TextGenerator.Stream(Model, ids, options with { EosTokenIds = stops }))
        {
            var text = decoder.Push((int)id);
            if (text.Length > 0) yield return text;
            if (ct.IsCancellationRequested) yield break;
        }
        var rest = decoder.Flush();
        if (rest.Length > 0) yield return rest;
    }

    HfTokenizer RequireTokenizer() => Tokenizer ?? throw new FileNotFoundException(
        $"No tokenizer in {Source.CheckpointFolder ?? Source.BaseFolder}{(Source.CheckpointFolder is null ? "" : $" or {Source.BaseFolder}")}: " +
        $"put tokenizer.json (+ tokenizer_config.json) or vocab.json + merges.txt there.");

    public void Dispose() => Model.Dispose();
}
