"""Containers: Sequential (with the Linear+ReLU fusion) and ModuleList.

Kept apart from :mod:`.module` so that the base class imports no layer: containers sit above
the layers, the layers above Module.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from .. import functional as F
from .activation import ReLU
from .conv import Conv2d
from .layers import Linear
from .module import Module

__all__ = ["ModuleList", "Sequential"]


class Sequential(Module):
    """Modules applied one after another; ``Sequential(a, b)`` or ``Sequential(OrderedDict)``.

    Sub-modules are named "0", "1", ... (or by the dict keys); indexing and slicing work.
    """

    def __init__(self, *modules: Module | dict[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        mods = list(self._modules.values())
        i, n = 0, len(mods)
        while i < n:
            m = mods[i]
            nxt = mods[i + 1] if i + 1 < n else None
            if (type(m) is Linear and type(nxt) is ReLU and not m._forward_hooks
                    and not nxt._forward_hooks):
                # Linear → ReLU runs as one fused node: same values and gradients, one
                # temporary and one graph node less (hooks on either disable the fusion)
                x = F.linear_relu(x, m.weight, m.bias)
                i += 2
                continue
            if (type(m) is Conv2d and type(nxt) is ReLU and not m._forward_hooks
                    and not nxt._forward_hooks):
                x = m.forward_relu(x)  # Conv2d → ReLU: one fused node likewise
                i += 2
                continue
            x = m(x)
            i += 1
        return x

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[index][1]


class ModuleList(Module):
    """A list of modules that registers them (named "0", "1", ...); it has no forward."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def __setitem__(self, index: int, module: Module) -> None:
        name = list(self._modules)[index]
        self.add_module(name, module)
