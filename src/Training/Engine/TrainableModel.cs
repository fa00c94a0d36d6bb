using Sft.Training.Checkpoints;
using Sft.Training.Config;
using Sft.Training.Lora;
using Sft.Training.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Engine;

/// <summary>
/// The model of a run as training sees it: the causal LM on its device and dtype, with LoRA adapters
/// injected (base frozen) when the config asks for them, and activation recompute set up.
/// </summary>
public sealed class TrainableModel : IDisposable
{
    public CausalLM Model { get; }
    public LoraSettings? Lora { get; }
    public IReadOnlyList<(string Module, LoraLinear Layer)> Adapters { get; }
    public string BaseModelPath { get; }

    TrainableModel(CausalLM model, LoraSettings? lora, IReadOnlyList<(string, LoraLinear)> adapters, string basePath)
    {
        Model = model; Lora = lora; Adapters = adapters; BaseModelPath = basePath;
    }

    public bool IsLora => Lora is not null;

    /// <summary>The parameters the optimizer updates, by state-dict name.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Trainable =>
        Model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();

    public static TrainableModel Load(TrainConfig config, Device device, ITrainingEventSink events)
    {
        var m = config.Model;
        var model = HfModelFolder.Load(m.Path, new ModelLoadOptions { Device = device, Dtype = m.ComputeDtype, NumLayers = m.NumLayers });
        try
        {
            LoraSettings? settings = null;
            IReadOnlyList<(string, LoraLinear)> adapters = [];
            if (config.Lora is { } lora)
            {
                settings = lora.Settings;
                adapters = LoraInjector.Inject(model, settings);
                if (lora.AdapterPath is { } adapterPath)
                {
                    var saved = PeftAdapter.ReadSettings(adapterPath);
                    if (saved.Rank != settings.Rank || Math.Abs(saved.Scaling - settings.Scaling) > 1e-12)
                        throw new InvalidDataException(
                            $"pet_config.adapter_path {adapterPath} has r={saved.Rank}, lora_alpha={saved.Alpha}{(saved.UseRsLora ? " (rsLoRA)" : "")} " +
                            $"but the config asks for r={settings.Rank}, lora_alpha={settings.Alpha}{(settings.UseRsLora ? " (rsLoRA)" : "")}: make them equal.");
                    PeftAdapter.LoadWeights(adapterPath, adapters);
                    events.Publish(new LogEvent(TrainingLogLevel.Info, $"LoRA adapter loaded from {adapterPath}"));
                }
            }
            var recompute = config.Loop.Recompute;
            model.model.RecomputeLayers = recompute.LayersOf(model.model.layers.Count);
            model.train();

            var result = new TrainableModel(model, settings, adapters, m.Path);
            var trainable = result.Trainable.Sum(p => p.Parameter.numel());
            var total = model.parameters().Sum(p => p.numel());
            events.Publish(new LogEvent(TrainingLogLevel.Info,
                $"model {m.Path}: {model.Config.ModelType}, {model.model.layers.Count} layers, {total / 1e6:F1}M parameters, " +
                $"{trainable / 1e6:F2}M trainable ({(settings is null ? "full fine-tuning" : $"LoRA r={settings.Rank} on {adapters.Count} layers")}), " +
                $"{m.ComputeDtype} on {device}{(model.model.RecomputeLayers > 0 ? $", recompute {model.model.RecomputeLayers} layers" : "")}"));
            return result;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose() => Model.Dispose();
}
