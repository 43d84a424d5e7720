"""Rewrite an ONNX graph so runtimes without bool or int64 kernels can take it whole, same values.

onnxruntime-web's WebGPU EP (measured: 1.30.0) has no kernel for ``Cast`` from int64, for ``And``,
``IsNaN``, nor for ``Flatten``/``Gather``/``Reshape`` on bool tensors: transformers' attention-mask
path uses all of them. :func:`float_masks` carries every bool tensor computed from the graph inputs
as a float 0/1 tensor instead (``And`` -> ``a*b``, ``Or`` -> ``a+b-a*b``, ``Xor`` -> ``|a-b|``,
``Not`` -> ``1-a``, data movement on the float tensor) and turns it back into bool only where a
consumer needs one (e.g. the condition of ``Where``); int64 graph inputs read only by ``Gather``
(as indices) or ``Cast`` become int32. Every replacement is exact for 0/1 values, so outputs are
bit-identical."""

from __future__ import annotations

from typing import Any

import onnx
from onnx import TensorProto, helper

#: bool -> bool ops; their float 0/1 forms use only ops the WebGPU EP has (it has no Max).
_LOGIC = frozenset({"And", "Or", "Xor", "Not"})
#: Ops whose first input is data they only move or copy: they run on the float tensor unchanged.
_MOVE = frozenset({"Identity", "Flatten", "Reshape", "Expand", "Unsqueeze", "Squeeze", "Transpose", "Slice",
                   "Gather", "GatherElements", "GatherND", "Tile", "Concat", "Split"})
#: Ops that produce bool from numeric inputs: kept, followed by a Cast to float.
_COMPARE = frozenset({"Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual"})
#: Consumers of an int64 graph input that take int32 as well (input position -> ok).
_INT32_OK = {"Gather": {1}, "Cast": {0}}


def float_masks(model: onnx.ModelProto) -> tuple[onnx.ModelProto, dict[str, int]]:
    """The rewritten copy of ``model`` and counts of what changed (``{}`` when nothing did)."""
    model = onnx.shape_inference.infer_shapes(model)
    rewriter = _Rewriter(model)
    rewriter.narrow_inputs()
    rewriter.run()
    return rewriter.model, {k: v for k, v in rewriter.counts.items() if v}


class _Rewriter:
    """One pass in topological order; ``floats`` maps a dynamic bool tensor to its float 0/1 twin."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.graph = model.graph
        self.types = {vi.name: vi.type.tensor_type.elem_type
                      for vi in [*self.graph.value_info, *self.graph.input, *self.graph.output]}
        self.types.update({i.name: i.data_type for i in self.graph.initializer})
        self.dynamic = {i.name for i in self.graph.input} - {i.name for i in self.graph.initializer}
        self.floats: dict[str, str] = {}
        self.bools: set[str] = set()  # dynamic bool names some consumer still reads as bool
        self.nodes: list[onnx.NodeProto] = []
        self.counts = {"bool ops as float": 0, "int64 inputs as int32": 0}
        self._n = 0

    def _name(self, base: str) -> str:
        self._n += 1
        return f"{base}__f{self._n}"

    def _emit(self, op: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        out = output or self._name(inputs[0])
        self.nodes.append(helper.make_node(op, inputs, [out], name=self._name(f"float_masks_{op}"), **attrs))
        return out

    def _const(self, value: float) -> str:
        name = self._name("float_masks_const")
        self.graph.initializer.append(helper.make_tensor(name, TensorProto.FLOAT, [], [value]))
        return name

    def narrow_inputs(self) -> None:
        """int64 graph inputs read only by Gather indices / Cast become int32 (the runner narrows feeds)."""
        readers: dict[str, list[tuple[str, int]]] = {}
        for node in self.graph.node:
            for pos, name in enumerate(node.input):
                readers.setdefault(name, []).append((node.op_type, pos))
        for vi in self.graph.input:
            tensor = vi.type.tensor_type
            uses = readers.get(vi.name, [])
            if tensor.elem_type == TensorProto.INT64 and uses and all(p in _INT32_OK.get(op, ()) for op, p in uses):
                tensor.elem_type = TensorProto.INT32
                self.types[vi.name] = TensorProto.INT32
                self.counts["int64 inputs as int32"] += 1

    def _is_dyn_bool(self, name: str) -> bool:
        return name in self.floats

    def _as_bool(self, name: str) -> str:
        """The original bool tensor, recomputed from its float twin once a consumer needs it."""
        if name not in self.bools:
            self.bools.add(name)
            self._emit("Cast", [self.floats[name]], name, to=TensorProto.BOOL)
        return name

    def _float_of(self, name: str) -> str:
        """A float 0/1 tensor for any bool input (constants are cast; ORT folds those)."""
        return self.floats[name] if name in self.floats else self._emit("Cast", [name], to=TensorProto.FLOAT)

    def _logic(self, op: str, args: list[str]) -> str:
        """The float 0/1 result of a logic op on float 0/1 tensors (exact: every value is 0 or 1)."""
        if op == "Not":
            return self._emit("Sub", [self._const(1.0), args[0]])
        if op == "Xor":
            return self._emit("Abs", [self._emit("Sub", args)])
        both = self._emit("Mul", args)
        return both if op == "And" else self._emit("Sub", [self._emit("Add", args), both])

    def run(self) -> None:
        for node in self.graph.node:
            dyn_in = any(i in self.dynamic for i in node.input)
            if dyn_in:
                self.dynamic.update(node.output)
            if not (dyn_in and self._rewrite(node)):
                for name in node.input:
                    if self._is_dyn_bool(name):
                        self._as_bool(name)
                self.nodes.append(node)
        for out in self.graph.output:
            if self._is_dyn_bool(out.name):
                self._as_bool(out.name)
        del self.graph.node[:]
        self.graph.node.extend(self.nodes)
        if any(self.counts.values()):
            del self.graph.value_info[:]  # stale for renamed/retyped tensors; runtimes infer their own

    def _rewrite(self, node: onnx.NodeProto) -> bool:
        """Emit the float form of ``node`` if it makes or moves a dynamic bool; False to keep it."""
        op, out = node.op_type, node.output[0] if node.output else ""
        bool_out = len(node.output) >= 1 and self.types.get(out) == TensorProto.BOOL
        if op == "Cast" and self._is_dyn_bool(node.input[0]):
            to = next(a.i for a in node.attribute if a.name == "to")
            if to == TensorProto.BOOL:
                self.floats[out] = self.floats[node.input[0]]
            else:
                self._emit("Cast", [self.floats[node.input[0]]], out, to=to)
        elif op == "Cast" and bool_out:  # x != 0, as float: x -> float (nonzero stays nonzero) -> bool -> float
            as_float = self._emit("Cast", [node.input[0]], to=TensorProto.FLOAT)
            self.floats[out] = self._emit("Cast", [self._emit("Cast", [as_float], to=TensorProto.BOOL)],
                                          to=TensorProto.FLOAT)
        elif op in _LOGIC and bool_out:
            self.floats[out] = self._logic(op, [self._float_of(i) for i in node.input])
        elif op in ("IsNaN",) and bool_out:  # NaN is the only value unequal to itself
            same = self._emit("Cast", [self._emit("Equal", [node.input[0], node.input[0]])], to=TensorProto.FLOAT)
            self.floats[out] = self._emit("Sub", [self._const(1.0), same])
        elif op in _COMPARE and bool_out:
            self.nodes.append(node)
            self.floats[out] = self._emit("Cast", [out], to=TensorProto.FLOAT)
            self.bools.add(out)
        elif op in _MOVE and node.input and self._is_dyn_bool(node.input[0]) and len(node.output) == 1:
            inputs = [self._float_of(i) if self.types.get(i) == TensorProto.BOOL and op == "Concat" else i
                      for i in node.input]
            inputs[0] = self.floats[node.input[0]]
            self.floats[out] = self._emit(op, inputs, **{a.name: helper.get_attribute_value(a) for a in node.attribute})
        else:
            return False
        self.counts["bool ops as float"] += 1
        return True
