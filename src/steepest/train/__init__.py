"""Training: the ``fit`` loop, evaluation, metrics, callbacks and checkpoints."""

from .callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint, ProgressBar
from .checkpoint import load_checkpoint, save_checkpoint
from .history import History
from .loop import Trainer, TrainingDiverged, evaluate, fit, predict
from .metrics import accuracy, confusion_matrix, mae, mse, top_k_accuracy
from .tensorboard import TensorBoard  # interop: imports tensorboardX lazily

__all__ = [
    "CSVLogger", "Callback", "EarlyStopping", "History", "ModelCheckpoint", "ProgressBar",
    "Trainer", "TrainingDiverged", "accuracy", "confusion_matrix", "evaluate", "fit",
    "load_checkpoint", "mae", "mse", "predict", "save_checkpoint", "top_k_accuracy",
    "TensorBoard",
]
