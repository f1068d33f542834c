# classpath helper for the experiments: the retrain module's classes and libraries of this checkout
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CP="$ROOT/retrain/target/classes:$ROOT/retrain/target/lib/*"
J() { OMP_WAIT_POLICY=PASSIVE java -Xmx3g -Dai.djl.offline=true -Dretrain.djl.cache="$ROOT/retrain/target/djl-cache" -cp "$CP" "$@"; }
