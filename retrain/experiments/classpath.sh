# classpath helper for experiments
CP="/work/wt6/target/exp/classes:/work/wt6/retrain/target/lib/*"
J() { OMP_WAIT_POLICY=PASSIVE java -Xmx3g -Dai.djl.offline=true -Dretrain.djl.cache=/work/wt6/retrain/target/djl-cache -cp "$CP" "$@"; }
