/* Fine-tuning during compression: Adam with a cosine decay, through nml_fit. */
#include "nanoml/compress.h"

nml_status nml_finetune(nml_net *net, const nml_data *data, const nml_finetune_opts *o,
                        nml_status (*on_step)(void *user, int64_t step, nml_error *err),
                        void *step_user, nml_fit_callback on_progress, void *progress_user,
                        nml_error *err) {
    if (o->epochs <= 0) return NML_OK;
    if (!data) return nml_fail(err, NML_E_ARG, "fine-tuning needs training data");
    nml_optim *opt;
    const nml_optim_opts oo = {
        .kind = NML_OPTIM_ADAM, .lr = o->lr, .schedule = {.kind = NML_SCHEDULE_COSINE}};
    NML_TRY(nml_optim_create(&opt, net, &oo, err));
    const nml_fit_opts fo = {.epochs = o->epochs,
                             .batch = o->batch,
                             .loss = data->n_classes > 0 ? NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY
                                                         : NML_LOSS_MSE,
                             .seed = o->seed,
                             .on_progress = on_progress,
                             .user = progress_user,
                             .on_step = on_step,
                             .step_user = step_user};
    nml_status st = nml_fit(net, opt, data, &fo, NULL, err);
    nml_optim_free(opt);
    return st;
}
