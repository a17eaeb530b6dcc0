package io.statefunbootstrap.harness;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupsSavepointStateHandle;
import org.apache.flink.runtime.state.KeyGroupsStateHandle;
import org.apache.flink.runtime.state.KeyedBackendSerializationProxy;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.metainfo.StateMetaInfoSnapshot;

/**
 * Reads the keyed-state headers (KeyedBackendSerializationProxy) of an operator's subtask handles
 * with Flink's own reader, to list which states the savepoint declares.
 */
final class SavepointHeader {
  private SavepointHeader() {}

  /** State name -> description of its value serializer snapshot, over all subtask handles. */
  static Map<String, String> states(OperatorState op, List<String> remarks) throws IOException {
    Map<String, String> states = new TreeMap<>();
    for (Map.Entry<Integer, OperatorSubtaskState> e : op.getSubtaskStates().entrySet()) {
      for (KeyedStateHandle h : e.getValue().getManagedKeyedState()) {
        if (!(h instanceof KeyGroupsSavepointStateHandle)) {
          remarks.add(
              "subtask "
                  + e.getKey()
                  + ": keyed handle is "
                  + h.getClass().getSimpleName()
                  + ", not a canonical-savepoint KeyGroupsSavepointStateHandle (type 7)");
        }
        if (!(h instanceof KeyGroupsStateHandle)) {
          continue;
        }
        KeyedBackendSerializationProxy<?> proxy =
            new KeyedBackendSerializationProxy<>(SavepointHeader.class.getClassLoader());
        try (FSDataInputStream in = ((KeyGroupsStateHandle) h).openInputStream()) {
          proxy.read(new DataInputViewStreamWrapper(in));
        }
        for (StateMetaInfoSnapshot s : proxy.getStateMetaInfoSnapshots()) {
          TypeSerializerSnapshot<?> v =
              s.getTypeSerializerSnapshot(StateMetaInfoSnapshot.CommonSerializerKeys.VALUE_SERIALIZER);
          String d =
              s.getBackendStateType()
                  + "/"
                  + s.getOption(StateMetaInfoSnapshot.CommonOptionsKeys.KEYED_STATE_TYPE)
                  + " "
                  + (v == null ? "?" : v.getClass().getSimpleName());
          String prev = states.put(s.getName(), d);
          if (prev != null && !prev.equals(d)) {
            remarks.add("state " + s.getName() + " declared differently by subtasks: " + prev + " / " + d);
          }
        }
      }
    }
    return states;
  }

  static List<String> names(List<StateSpec> specs) {
    List<String> n = new ArrayList<>();
    for (StateSpec s : specs) {
      n.add(s.flinkName);
    }
    return n;
  }
}
